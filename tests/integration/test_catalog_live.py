"""A catalog edit reaches a running worker: its processes have the catalog cached, and the next plan after an
edit (through the ORM, or through the admin) is made from the edited catalog."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from planning import selectors
from planning.models import Venue
from tests.conftest import client_for
from tests.integration.test_live_pipeline import KIDS_PARTY, wait_for_end

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def plan_venue(client) -> dict:
    plan = wait_for_end(client, client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").json()["id"])
    assert plan["status"] == "complete", plan["result"]
    return plan["result"]["venue"]


def test_the_next_plan_after_an_edit_uses_the_edited_catalog(catalog, user, worker):
    client = client_for(user)
    first = plan_venue(client)
    plan_venue(client)  # both worker processes have most likely loaded the catalog by now
    version = selectors.catalog_version()

    venue = Venue.objects.get(pk=first["id"])
    venue.name = "The Freshly Renamed Hall"
    venue.save()  # autocommit: the version is bumped with it and published on commit
    assert selectors.catalog_version() > version
    renamed = plan_venue(client)
    assert (renamed["id"], renamed["name"]) == (first["id"], "The Freshly Renamed Hall")

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "a-long-admin-password")
    browser = Client()
    browser.force_login(admin)
    form = {
        "city": venue.city_id, "name": "The Admin's Hall", "capacity": venue.capacity, "min_guests": venue.min_guests,
        "base_price": venue.base_price, "price_per_guest": venue.price_per_guest, "setting": venue.setting,
        "amenities": json.dumps(venue.amenities), "party_types": json.dumps(venue.party_types),
        "audiences": json.dumps(venue.audiences), "rating": str(venue.rating), "description": venue.description,
    }  # fmt: skip
    response = browser.post(f"/admin/planning/venue/{venue.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    edited = plan_venue(client)
    assert (edited["id"], edited["name"], edited["cost"]) == (first["id"], "The Admin's Hall", first["cost"])
