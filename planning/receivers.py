"""Any saved or deleted catalog row (the admin, a shell, a script) moves the catalog to a new version, so
that every process's catalog cache reloads. Bulk writes send no signals: whoever makes them bumps the
version (`catalog_seed` does)."""

from django.db.models.signals import post_delete, post_save

from .models import Bakery, Cake, City, Theme, Venue
from .services import catalog_version_bump

CATALOG_MODELS = (City, Venue, Theme, Bakery, Cake)


def catalog_changed(sender, **kwargs) -> None:
    """A catalog row changed: bump the version in the same transaction."""
    catalog_version_bump()


def receivers_connect() -> None:
    for model in CATALOG_MODELS:
        post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-saved-{model.__name__}")
        post_delete.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-deleted-{model.__name__}")
