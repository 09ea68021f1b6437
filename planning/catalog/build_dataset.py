"""Build the party-planning catalog shipped as ``catalog.json``.

Hand-authored tables (cities, venue kinds, name parts, themes, bakeries,
flavours and cake designs) are combined by a single ``random.Random(2026)``,
so every run writes the same file byte for byte. Run it from anywhere::

    python planning/catalog/build_dataset.py
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = 2026
OUTPUT = Path(__file__).with_name("catalog.json")
VENUES_PER_CITY = 20

# fmt: off
AMENITIES = (
    "parking", "dance_floor", "stage", "av_system", "kitchen", "bar", "garden", "kids_play_area",
    "wheelchair_access", "catering", "wifi", "pool", "fireplace", "rooftop", "waterfront", "projector",
)
PARTY_TYPES = (
    "birthday", "wedding", "anniversary", "baby_shower", "bridal_shower", "graduation", "corporate",
    "holiday", "retirement", "engagement", "reunion", "mitzvah", "quinceanera", "bachelor_party", "gender_reveal",
    "housewarming", "baptism", "memorial", "farewell", "fundraiser", "general",
)
DIETARY = (
    "vegan", "vegetarian", "pescatarian", "gluten_free", "nut_free", "dairy_free", "egg_free", "sugar_free", "kosher",
    "halal", "shellfish_free",
)
AGE_GROUPS = ("kids", "teens", "adults")
SEASONS = ("spring", "summer", "autumn", "winter")

Record = dict[str, Any]


# --- Cities ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    """A city with the local names its venues and bakeries are built from."""

    slug: str
    name: str
    state: str
    aliases: tuple[str, ...]
    cost_index: float
    hoods: tuple[str, ...]
    streets: tuple[str, ...]
    parks: tuple[str, ...]
    waters: tuple[str, ...]
    bakeries: int
    local_bakery: str
    specialties: tuple[str, ...]


CITIES: tuple[City, ...] = (
    City(
        "austin", "Austin", "TX", ("atx", "austin tx"), 1.0,
        ("South Congress", "East Austin", "Zilker", "Rainey Street", "Hyde Park", "Mueller",
         "Travis Heights", "Clarksville", "Bouldin Creek", "Cherrywood"),
        ("Congress Avenue", "Cesar Chavez", "Burnet Road", "South Lamar", "Manor Road", "West Sixth"),
        ("Zilker Park", "Pease Park", "Mueller Lake Park", "Walnut Creek Park"),
        ("Lady Bird Lake", "Lake Travis", "Barton Creek"),
        3, "Bluebonnet Bakeshop", ("texas_sheet", "tres_leches"),
    ),
    City(
        "new-york", "New York", "NY", ("nyc", "new york city", "manhattan", "brooklyn", "big apple"), 1.6,
        ("Williamsburg", "Tribeca", "Chelsea", "Astoria", "Park Slope", "Harlem", "Lower East Side",
         "DUMBO", "Upper West Side", "Long Island City"),
        ("Bleecker Street", "Bowery", "Hudson Street", "Atlantic Avenue", "Bedford Avenue",
         "West 26th Street"),
        ("Prospect Park", "Riverside Park", "Fort Greene Park", "Flushing Meadows"),
        ("Hudson River", "East River", "Gowanus"),
        4, "Bedford Butter & Crumb", ("ny_cheesecake", "black_and_white"),
    ),
    City(
        "san-francisco", "San Francisco", "CA", ("sf", "san fran", "san francisco ca"), 1.55,
        ("Mission District", "Hayes Valley", "North Beach", "SoMa", "Nob Hill", "Dogpatch", "Presidio",
         "Noe Valley", "Marina", "Potrero Hill"),
        ("Valencia Street", "Market Street", "Divisadero", "Fillmore Street", "Embarcadero",
         "Polk Street"),
        ("Golden Gate Park", "Dolores Park", "Stern Grove", "McLaren Park"),
        ("Crissy Field", "Mission Bay", "Aquatic Park"),
        3, "Golden Gate Cakery", ("meyer_lemon_olive", "coffee_crunch"),
    ),
    City(
        "chicago", "Chicago", "IL", ("chi-town", "chitown", "windy city"), 1.15,
        ("Wicker Park", "Logan Square", "West Loop", "Lincoln Park", "Andersonville", "Pilsen",
         "Hyde Park", "River North", "Bucktown", "Lakeview"),
        ("Milwaukee Avenue", "Fulton Market", "Clark Street", "Halsted Street", "Randolph Street",
         "Damen Avenue"),
        ("Grant Park", "Humboldt Park", "Jackson Park", "Horner Park"),
        ("Lake Michigan", "Chicago River", "Montrose Harbor"),
        3, "Windy City Cake Co.", ("cassata", "chicago_cheesecake"),
    ),
    City(
        "seattle", "Seattle", "WA", ("emerald city", "seattle wa"), 1.3,
        ("Capitol Hill", "Ballard", "Fremont", "Queen Anne", "Georgetown", "Columbia City",
         "Wallingford", "South Lake Union", "Belltown", "West Seattle"),
        ("Pike Street", "Broadway", "Leary Way", "Pine Street", "Western Avenue", "Stone Way"),
        ("Discovery Park", "Gas Works Park", "Volunteer Park", "Green Lake Park"),
        ("Lake Union", "Elliott Bay", "Shilshole Bay"),
        3, "Puget Sound Patisserie", ("espresso_hazelnut", "rainier_cherry"),
    ),
    City(
        "denver", "Denver", "CO", ("mile high city", "denver co"), 1.1,
        ("RiNo", "LoHi", "Highland", "Capitol Hill", "Cherry Creek", "Baker", "Washington Park",
         "Five Points", "Sloan's Lake", "Congress Park"),
        ("Larimer Street", "Tennyson Street", "Colfax Avenue", "South Broadway", "Blake Street",
         "Santa Fe Drive"),
        ("City Park", "Washington Park", "Cheesman Park", "Berkeley Park"),
        ("Sloan's Lake", "Cherry Creek", "Smith Lake"),
        2, "Mile High Crumb", ("palisade_peach", "chocolate_stout"),
    ),
    City(
        "miami", "Miami", "FL", ("magic city", "miami fl"), 1.2,
        ("Wynwood", "Little Havana", "Coconut Grove", "Brickell", "Design District", "Little Haiti",
         "Edgewater", "South Beach", "Key Biscayne", "MiMo"),
        ("Calle Ocho", "Biscayne Boulevard", "Collins Avenue", "Ocean Drive", "Lincoln Road",
         "NW 2nd Avenue"),
        ("Bayfront Park", "Peacock Park", "Crandon Park", "Margaret Pace Park"),
        ("Biscayne Bay", "South Beach", "Miami River"),
        3, "Biscayne Bay Bakehouse", ("tres_leches", "key_lime", "guava_cheese"),
    ),
    City(
        "boston", "Boston", "MA", ("beantown", "boston ma"), 1.4,
        ("Back Bay", "South End", "Beacon Hill", "Jamaica Plain", "Seaport", "North End",
         "Charlestown", "Fenway", "Dorchester", "Roslindale"),
        ("Newbury Street", "Tremont Street", "Boylston Street", "Hanover Street", "Harrison Avenue",
         "Centre Street"),
        ("Boston Common", "Franklin Park", "Castle Island", "Jamaica Pond Park"),
        ("Charles River", "Boston Harbor", "Fort Point Channel"),
        3, "Back Bay Bake Shop", ("boston_cream", "cranberry_orange"),
    ),
    City(
        "nashville", "Nashville", "TN", ("music city", "nashvegas"), 1.0,
        ("East Nashville", "The Gulch", "12 South", "Germantown", "Midtown", "Sylvan Park",
         "Wedgewood-Houston", "Belmont", "Music Row", "Hillsboro Village"),
        ("Broadway", "Gallatin Avenue", "Charlotte Avenue", "Demonbreun Street", "Fatherland Street",
         "Division Street"),
        ("Centennial Park", "Shelby Bottoms", "Percy Warner Park", "Sevier Park"),
        ("Cumberland River", "Percy Priest Lake", "Radnor Lake"),
        2, "Music Row Cake Co.", ("hummingbird", "caramel_cake"),
    ),
    City(
        "new-orleans", "New Orleans", "LA", ("nola", "big easy", "crescent city"), 0.9,
        ("French Quarter", "Garden District", "Marigny", "Bywater", "Treme", "Uptown", "Mid-City",
         "Irish Channel", "Warehouse District", "Lakeview"),
        ("Frenchmen Street", "Magazine Street", "Royal Street", "St. Charles Avenue",
         "Esplanade Avenue", "Tchoupitoulas Street"),
        ("City Park", "Audubon Park", "Crescent Park", "Armstrong Park"),
        ("Mississippi River", "Bayou St. John", "Lake Pontchartrain"),
        3, "Crescent City Sweets", ("king_cake", "doberge"),
    ),
    City(
        "los-angeles", "Los Angeles", "CA", ("la", "l.a.", "city of angels"), 1.45,
        ("Silver Lake", "Echo Park", "Arts District", "Venice", "Highland Park", "Koreatown",
         "Los Feliz", "Eagle Rock", "Studio City", "Hollywood"),
        ("Sunset Boulevard", "Abbot Kinney", "York Boulevard", "Melrose Avenue", "Figueroa Street",
         "Spring Street"),
        ("Griffith Park", "Elysian Park", "Echo Park Lake", "Barnsdall Park"),
        ("Venice Beach", "Marina del Rey", "Playa del Rey"),
        4, "Silver Lake Sweets", ("ube_chiffon", "matcha_crepe"),
    ),
    City(
        "portland", "Portland", "OR", ("pdx", "rose city", "stumptown"), 1.1,
        ("Alberta Arts", "Pearl District", "Hawthorne", "Sellwood", "St. Johns", "Nob Hill", "Kerns",
         "Mississippi", "Laurelhurst", "Montavilla"),
        ("Alberta Street", "Hawthorne Boulevard", "NW 23rd Avenue", "Division Street",
         "Burnside Street", "Belmont Street"),
        ("Laurelhurst Park", "Washington Park", "Mount Tabor Park", "Cathedral Park"),
        ("Willamette River", "Columbia River", "Sauvie Island"),
        3, "Rose City Cake Studio", ("marionberry", "hazelnut_chocolate"),
    ),
    City(
        "atlanta", "Atlanta", "GA", ("atl", "hotlanta"), 1.05,
        ("Inman Park", "Old Fourth Ward", "Virginia-Highland", "Midtown", "Buckhead",
         "East Atlanta Village", "Grant Park", "West End", "Cabbagetown", "Little Five Points"),
        ("Ponce de Leon Avenue", "Peachtree Street", "Edgewood Avenue", "Howell Mill Road",
         "North Highland Avenue", "Memorial Drive"),
        ("Piedmont Park", "Grant Park", "Freedom Park", "Chastain Park"),
        ("Chattahoochee River", "Lake Clara Meer", "Lake Lanier"),
        2, "Peachtree Petit Fours", ("peach_pound", "sweet_tea_lemon"),
    ),
    City(
        "san-diego", "San Diego", "CA", ("sd", "america's finest city"), 1.3,
        ("North Park", "Little Italy", "Gaslamp Quarter", "Pacific Beach", "La Jolla", "Ocean Beach",
         "Hillcrest", "Barrio Logan", "South Park", "Point Loma"),
        ("University Avenue", "India Street", "Fifth Avenue", "Garnet Avenue", "Newport Avenue",
         "Park Boulevard"),
        ("Balboa Park", "Mission Bay Park", "Presidio Park", "Kate Sessions Park"),
        ("Mission Bay", "San Diego Bay", "Pacific Beach"),
        2, "Balboa Bake House", ("churro_cake", "baja_lime_coconut"),
    ),
)

SURNAMES = (
    "Abernathy", "Alder", "Bellamy", "Brennan", "Calloway", "Castellano", "Delgado", "Dunmore",
    "Ellison", "Everly", "Fairbanks", "Finch", "Garrison", "Goodwin", "Hartley", "Halloway",
    "Ingram", "Iverson", "Keller", "Lockhart", "Montgomery", "Navarro", "Okafor", "Prescott",
    "Quincy", "Rosales", "Sinclair", "Thornton", "Underwood", "Vance", "Whitaker", "Yardley",
    "Zamora", "Marlowe", "Beaumont", "Kingsley", "Holloway", "Carrington", "Pemberton", "Ashby",
)


# --- Venues ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VenueKind:
    """A kind of venue: name patterns, sizes, prices (at cost index 1.0) and what it offers."""

    key: str
    names: tuple[str, ...]
    settings: tuple[str, ...]
    capacity: tuple[int, int]
    min_share: tuple[float, float]
    base_price: tuple[int, int]
    per_guest: tuple[int, int]
    amenities: tuple[str, ...]
    extra_amenities: tuple[str, ...]
    party_types: tuple[str, ...]
    extra_party_types: tuple[str, ...]
    rating: tuple[float, float]
    features: tuple[str, ...]
    blurbs: tuple[str, ...]
    skip_cities: tuple[str, ...] = ()


VENUE_KINDS: dict[str, VenueKind] = {
    kind.key: kind
    for kind in (
        VenueKind(
            "kids_play",
            ("{hood} Kids Play Center", "Bounce Town Kids Club {hood}", "Little Explorers Play Café {hood}",
             "Jump Jam Trampoline Center {hood}", "Tumble Tots Gym {hood}", "Wiggle Room Play Café {hood}"),
            ("indoor",), (30, 80), (0.1, 0.3), (150, 300), (8, 14),
            ("kids_play_area", "wheelchair_access"), ("parking", "catering", "wifi", "projector", "av_system"),
            ("birthday",), ("baby_shower", "holiday", "graduation"),
            (4.0, 4.9),
            ("a two-story climbing structure", "a toddler soft-play zone", "foam pits and a ninja course",
             "a wall-to-wall trampoline court", "a ball pit and spiral slide tower", "a mini rock-climbing wall"),
            ("Indoor play space in {hood} with {feature} and a private party room. Hosts run the games, "
             "serve pizza and handle cleanup.",
             "Kid-focused party venue with {feature}; two-hour packages include a party host, "
             "table setup and invitations. Up to {capacity} guests."),
        ),
        VenueKind(
            "community_room",
            ("{hood} Community Center Hall", "{hood} Branch Library Meeting Room", "{street} Rec Center Party Room",
             "{hood} Neighborhood House"),
            ("indoor",), (25, 40), (0.2, 0.4), (150, 260), (0, 5),
            ("parking", "wheelchair_access", "kitchen"), ("projector", "wifi", "av_system"),
            ("birthday", "baby_shower", "reunion"),
            ("bridal_shower", "graduation", "retirement", "holiday", "anniversary"),
            (3.6, 4.5),
            ("folding tables for forty", "a pass-through kitchen", "a wall of windows onto the street",
             "a small stage corner", "stackable chairs and a pull-down screen"),
            ("Affordable city-run room in {hood} with {feature}. Bring your own food and decorations; "
             "holds {capacity}.",
             "No-frills neighborhood space with {feature}, popular for showers, reunions and kids' birthdays "
             "on a budget."),
        ),
        VenueKind(
            "cafe_room",
            ("The Back Room at {surname}'s Café", "{hood} Tea House Parlor", "{surname} Coffee Co. Loft Room",
             "The Snug at {street} Bistro"),
            ("indoor",), (12, 35), (0.25, 0.5), (150, 250), (8, 16),
            ("wifi", "catering"), ("fireplace", "bar", "projector", "wheelchair_access"),
            ("birthday", "bridal_shower", "baby_shower"),
            ("engagement", "anniversary", "retirement", "corporate"),
            (4.0, 4.9),
            ("a working fireplace", "vintage armchairs and long communal tables", "a private espresso bar",
             "exposed brick and Edison bulbs", "a garden-facing window seat"),
            ("Cozy private room in {hood} with {feature}; the café kitchen sends out pastries, "
             "sandwiches and drinks.",
             "Intimate {hood} spot with {feature}, made for small showers and milestone brunches of up to "
             "{capacity}."),
        ),
        VenueKind(
            "karaoke",
            ("{hood} Karaoke Box", "Mic Drop Karaoke Suites {hood}", "{street} Sing-Along Lounge"),
            ("indoor",), (10, 40), (0.2, 0.4), (150, 300), (8, 16),
            ("av_system", "bar"), ("wifi", "catering", "stage", "projector"),
            ("birthday",), ("bridal_shower", "corporate", "graduation"),
            (3.8, 4.8),
            ("soundproofed private suites", "a 60,000-song catalog", "light-up tambourines and a fog machine",
             "a small stage with LED wash lights"),
            ("Private karaoke rooms in {hood} with {feature}; food and drinks are ordered from the table.",
             "Late-night party favorite with {feature}. Rooms fit groups from ten up to {capacity}."),
        ),
        VenueKind(
            "park_pavilion",
            ("{park} Picnic Pavilion", "{park} Grove Shelter", "{park} Meadow Pavilion"),
            ("outdoor",), (40, 150), (0.05, 0.2), (150, 400), (0, 3),
            ("parking", "wheelchair_access"), ("kids_play_area", "garden"),
            ("birthday", "reunion", "general"), ("graduation", "holiday", "baby_shower", "wedding"),
            (3.7, 4.7),
            ("a playground next door", "covered picnic tables and grills", "shade trees and open lawn",
             "restrooms and a power hookup"),
            ("Reservable covered pavilion in {park} with {feature}. Permits are per day; bring your own "
             "catering.",
             "Open-air shelter with {feature}, a classic for family reunions and backyard-style birthdays."),
        ),
        VenueKind(
            "botanical_garden",
            ("{hood} Botanical Garden Lawn", "The {surname} Rose Garden", "{park} Garden Terrace",
             "{hood} Conservatory Garden"),
            ("outdoor",), (60, 250), (0.15, 0.35), (1500, 4000), (15, 40),
            ("garden", "parking", "wheelchair_access"), ("catering", "bar", "dance_floor", "fireplace"),
            ("wedding", "engagement", "bridal_shower"),
            ("anniversary", "baby_shower", "birthday", "retirement"),
            (4.3, 5.0),
            ("a wisteria-covered pergola", "a reflecting pool", "heritage rose beds",
             "a lawn framed by old oaks", "a stone fountain courtyard"),
            ("Landscaped garden in {hood} with {feature}; ceremonies on the lawn, dinner under the lights.",
             "Flower-filled outdoor venue with {feature}, booked for ceremonies and garden parties of up "
             "to {capacity}."),
        ),
        VenueKind(
            "hotel_ballroom",
            ("The {surname} Hotel Grand Ballroom", "{hood} Grand Hotel Ballroom", "The {street} Plaza Ballroom"),
            ("indoor",), (200, 500), (0.15, 0.3), (4000, 9000), (45, 90),
            ("parking", "dance_floor", "stage", "av_system", "catering", "bar", "wheelchair_access", "wifi",
             "kitchen"),
            ("projector", "fireplace"),
            ("wedding", "corporate", "holiday"),
            ("anniversary", "engagement", "reunion", "retirement", "graduation"),
            (4.2, 4.9),
            ("crystal chandeliers", "a sprung dance floor", "a pre-function foyer with a coat check",
             "twenty-foot coffered ceilings"),
            ("Full-service hotel ballroom in {hood} with {feature}; in-house catering, bar and banquet staff.",
             "Classic ballroom with {feature}, sized for galas and big weddings of up to {capacity} "
             "seated guests."),
        ),
        VenueKind(
            "warehouse",
            ("The {street} Warehouse", "The {hood} Foundry", "{surname} Mill Event Hall", "{hood} Depot Hall"),
            ("indoor",), (200, 450), (0.15, 0.3), (2500, 6000), (20, 55),
            ("dance_floor", "stage", "av_system", "bar", "wheelchair_access"),
            ("parking", "kitchen", "projector", "wifi"),
            ("wedding", "corporate", "holiday"),
            ("graduation", "reunion", "birthday", "engagement"),
            (4.1, 4.9),
            ("exposed timber trusses", "roll-up garage doors", "polished concrete floors",
             "a freight-elevator bar", "industrial pendant lighting"),
            ("Converted industrial space in {hood} with {feature}; a blank canvas for big celebrations.",
             "Raw, open event hall with {feature}, holding up to {capacity} for dinners or {standing} "
             "standing."),
        ),
        VenueKind(
            "rooftop",
            ("{hood} Rooftop Terrace", "Skyline Rooftop at {street}", "The {surname} Hotel Rooftop"),
            ("mixed", "outdoor"), (40, 180), (0.2, 0.35), (1200, 3500), (25, 60),
            ("rooftop", "bar", "wheelchair_access"), ("dance_floor", "av_system", "fireplace", "pool", "wifi"),
            ("birthday", "engagement", "corporate"),
            ("anniversary", "graduation", "holiday", "bridal_shower"),
            (4.2, 4.9),
            ("skyline views", "fire pits and lounge seating", "a retractable awning", "sunset-facing bar"),
            ("Rooftop deck above {hood} with {feature}; heaters and a tented option for cooler nights.",
             "Open-air terrace with {feature}, loved for birthdays, engagement parties and after-work "
             "events."),
        ),
        VenueKind(
            "loft",
            ("The {street} Loft", "{hood} Studio Loft", "Loft {number} on {street}"),
            ("indoor",), (40, 150), (0.2, 0.35), (900, 2500), (15, 40),
            ("wifi", "av_system", "kitchen"), ("dance_floor", "bar", "projector", "rooftop", "wheelchair_access"),
            ("birthday", "corporate", "engagement"),
            ("bridal_shower", "graduation", "retirement", "baby_shower"),
            (4.1, 4.9),
            ("floor-to-ceiling windows", "exposed brick and timber beams", "a chef's kitchen",
             "white-washed walls for projection"),
            ("Light-filled loft in {hood} with {feature}; bring your own caterer and style it your way.",
             "Flexible private loft with {feature}, for dinners, workshops and parties of up to {capacity}."),
        ),
        VenueKind(
            "brewery",
            ("{surname} Brewing Co. Taproom", "{hood} Beer Hall", "{street} Brewhouse & Beer Garden"),
            ("mixed",), (40, 200), (0.15, 0.3), (500, 1500), (12, 30),
            ("bar", "parking"), ("stage", "garden", "av_system", "projector", "wifi", "wheelchair_access"),
            ("birthday", "corporate", "reunion"),
            ("retirement", "graduation", "holiday", "engagement"),
            (4.0, 4.8),
            ("twenty beers on tap", "a patio with string lights", "communal picnic tables",
             "a food truck on weekends", "views of the brewhouse"),
            ("Neighborhood brewery in {hood} with {feature}; private buyouts or a reserved section.",
             "Laid-back taproom with {feature}, a go-to for birthdays, team outings and send-offs."),
        ),
        VenueKind(
            "winery",
            ("{surname} Urban Winery", "{hood} Wine Cellar", "{surname} Cellars Tasting Room"),
            ("indoor", "mixed"), (30, 140), (0.2, 0.4), (1200, 3000), (25, 55),
            ("bar", "catering"), ("garden", "fireplace", "wifi", "parking", "wheelchair_access"),
            ("wedding", "engagement", "anniversary"),
            ("bridal_shower", "birthday", "retirement", "corporate"),
            (4.2, 4.9),
            ("barrel-lined walls", "a candlelit cellar", "a sommelier-led tasting", "a vine-covered patio"),
            ("Urban winery in {hood} with {feature}; seated dinners paired with house wines.",
             "Romantic tasting room with {feature}, ideal for rehearsal dinners and anniversaries of up "
             "to {capacity}."),
        ),
        VenueKind(
            "museum",
            ("{city} Museum of Art Atrium", "{hood} History Museum Great Hall", "{city} Science Center Galleries"),
            ("indoor",), (80, 350), (0.2, 0.35), (2500, 7000), (20, 50),
            ("wheelchair_access", "av_system", "catering", "parking"), ("projector", "stage", "bar"),
            ("wedding", "corporate", "holiday"),
            ("anniversary", "birthday", "graduation", "retirement"),
            (4.3, 4.9),
            ("a soaring glass atrium", "after-hours gallery access", "a grand marble staircase",
             "rotating exhibitions"),
            ("Museum event space in {hood} with {feature}; receptions run after public hours.",
             "Cultural venue with {feature}, for galas and receptions of up to {capacity}."),
        ),
        VenueKind(
            "private_dining",
            ("{surname}'s Private Dining Room", "The Chef's Table at {surname}", "{hood} Trattoria Wine Room"),
            ("indoor",), (12, 60), (0.25, 0.5), (300, 900), (35, 80),
            ("catering", "bar", "wifi"), ("fireplace", "av_system", "wheelchair_access"),
            ("birthday", "anniversary", "engagement"),
            ("retirement", "corporate", "bridal_shower", "graduation"),
            (4.2, 5.0),
            ("a set seasonal menu", "a wine wall", "a view into the open kitchen", "a long harvest table"),
            ("Restaurant private room in {hood} with {feature}; food and beverage minimums apply.",
             "Private dining with {feature}, for milestone dinners of up to {capacity}."),
        ),
        VenueKind(
            "supper_club",
            ("The {surname} Supper Club", "{street} Jazz Lounge", "Blue Note Room {hood}"),
            ("indoor",), (40, 180), (0.2, 0.35), (800, 2200), (20, 45),
            ("stage", "bar", "av_system", "dance_floor"), ("catering", "wifi", "wheelchair_access"),
            ("birthday", "engagement", "anniversary"),
            ("corporate", "retirement", "holiday"),
            (4.2, 4.9),
            ("a live house band", "velvet booths and art deco lamps", "a baby grand piano",
             "a speakeasy entrance"),
            ("Live-music lounge in {hood} with {feature}; cocktails, small plates and a dance floor.",
             "Moody supper club with {feature}, made for 1920s-style birthdays and late-night celebrations."),
        ),
        VenueKind(
            "bowling",
            ("{hood} Lanes & Arcade", "Strike Zone Bowl {hood}", "{street} Bowl & Games"),
            ("indoor",), (30, 150), (0.1, 0.25), (300, 700), (15, 28),
            ("kids_play_area", "parking", "bar", "wheelchair_access"), ("av_system", "catering", "projector", "wifi"),
            ("birthday", "corporate"),
            ("graduation", "reunion", "holiday"),
            (3.8, 4.7),
            ("sixteen lanes with bumpers", "a retro arcade", "glow bowling nights", "a laser tag arena"),
            ("Bowling alley in {hood} with {feature}; party lanes come with shoes, pizza and a host.",
             "All-ages games venue with {feature}, a crowd-pleaser for kids and grown-ups alike."),
        ),
        VenueKind(
            "waterfront",
            ("{water} Boathouse", "{water} Pier Pavilion", "The {surname} Marina Club"),
            ("mixed", "outdoor"), (60, 250), (0.2, 0.35), (1500, 4500), (25, 60),
            ("waterfront", "parking", "bar"), ("dance_floor", "pool", "catering", "wheelchair_access"),
            ("wedding", "engagement", "birthday"),
            ("corporate", "anniversary", "reunion", "retirement"),
            (4.2, 4.9),
            ("a deck over the water", "sunset views", "a boat dock for arrivals", "a wraparound porch"),
            ("Waterfront venue on {water} with {feature}; indoor hall plus an open-air deck.",
             "Breezy waterside setting with {feature}, for weddings and summer parties of up to "
             "{capacity}."),
        ),
        VenueKind(
            "barn",
            ("{surname} Farm Event Barn", "{surname} Ranch Barn", "The Barn at {surname} Orchard"),
            ("mixed",), (80, 300), (0.2, 0.35), (2000, 5000), (15, 40),
            ("parking", "dance_floor", "garden", "kitchen"), ("fireplace", "bar", "stage", "wheelchair_access"),
            ("wedding", "reunion", "anniversary"),
            ("engagement", "holiday", "birthday"),
            (4.2, 4.9),
            ("a hayloft lounge", "a restored 1900s timber frame", "pasture views", "a fire pit and lawn games"),
            ("Restored barn half an hour outside {city} with {feature}; rustic weddings and harvest dinners.",
             "Country event barn with {feature}, sleeps the wedding party on site and seats up to "
             "{capacity}."),
            ("new-york", "san-francisco", "boston", "chicago", "miami"),
        ),
        VenueKind(
            "fellowship_hall",
            ("{hood} Fellowship Hall", "St. {saint}'s Parish Hall", "{hood} Grange Hall"),
            ("indoor",), (60, 200), (0.15, 0.3), (300, 900), (0, 8),
            ("kitchen", "parking", "wheelchair_access"), ("stage", "projector", "dance_floor"),
            ("baby_shower", "bridal_shower", "reunion"),
            ("retirement", "anniversary", "birthday", "holiday", "graduation"),
            (3.7, 4.6),
            ("a full commercial kitchen", "round tables for two hundred", "a small stage",
             "hardwood floors and tall windows"),
            ("Community hall in {hood} with {feature}; an affordable choice for big family gatherings.",
             "Roomy parish-style hall with {feature}, rented for showers, reunions and anniversary "
             "dinners."),
        ),
        VenueKind(
            "courtyard",
            ("{hood} Secret Garden Courtyard", "The Courtyard at {street}", "{surname} House Garden Patio"),
            ("outdoor", "mixed"), (20, 80), (0.2, 0.4), (400, 1200), (10, 25),
            ("garden", "wheelchair_access"), ("bar", "catering", "fireplace"),
            ("birthday", "bridal_shower", "baby_shower"),
            ("engagement", "anniversary", "wedding"),
            (4.2, 4.9),
            ("a brick courtyard and fountain", "bistro lights over a walled garden", "an ivy-covered pergola",
             "a fig tree and herb beds"),
            ("Hidden courtyard in {hood} with {feature}; intimate showers, brunches and small ceremonies.",
             "Walled garden patio with {feature}, seating up to {capacity} under the lights."),
        ),
        VenueKind(
            "country_club",
            ("{hood} Country Club", "{surname} Hills Golf Club", "The {surname} Club"),
            ("mixed",), (100, 350), (0.2, 0.35), (3000, 7000), (35, 75),
            ("parking", "dance_floor", "catering", "bar", "garden", "wheelchair_access"),
            ("pool", "fireplace", "stage"),
            ("wedding", "corporate", "anniversary"),
            ("retirement", "holiday", "engagement", "reunion"),
            (4.2, 4.9),
            ("a terrace over the eighteenth green", "a wood-paneled clubhouse", "manicured lawns",
             "a pool deck"),
            ("Private club in {hood} with {feature}; plated dinners by the club kitchen.",
             "Traditional country club with {feature}, for weddings, anniversaries and company dinners."),
        ),
        VenueKind(
            "art_studio",
            ("{street} Art Gallery", "{hood} Paint & Sip Studio", "{surname} Pottery Studio"),
            ("indoor",), (15, 60), (0.2, 0.4), (200, 600), (10, 25),
            ("wifi", "wheelchair_access"), ("projector", "bar", "kitchen"),
            ("birthday", "bridal_shower"),
            ("baby_shower", "corporate", "retirement"),
            (4.1, 4.9),
            ("a guided painting session", "white gallery walls", "pottery wheels for every guest",
             "rotating local exhibitions"),
            ("Creative studio in {hood} with {feature}; guests take home what they make.",
             "Gallery space with {feature}, for art-themed birthdays, showers and team nights."),
        ),
        VenueKind(
            "science_center",
            ("{hood} Discovery Museum", "{city} Children's Science Center"),
            ("indoor",), (40, 180), (0.1, 0.25), (400, 1200), (12, 22),
            ("kids_play_area", "wheelchair_access", "parking", "av_system"), ("projector", "catering"),
            ("birthday",),
            ("holiday", "corporate", "graduation"),
            (4.3, 4.9),
            ("a planetarium dome", "hands-on experiment labs", "a dinosaur fossil hall", "a live animal room"),
            ("Hands-on museum in {hood} with {feature}; party packages include a science show.",
             "Family museum with {feature}, hosting birthday parties and after-hours events."),
        ),
    )
}

# Who a kind of venue is for: a kids' play centre is not for adults, a bar-centred venue not for children.
VENUE_AUDIENCES: dict[str, tuple[str, ...]] = {
    "kids_play": ("kids",),
    "community_room": ("kids", "teens", "adults"),
    "cafe_room": ("kids", "teens", "adults"),
    "karaoke": ("teens", "adults"),
    "park_pavilion": ("kids", "teens", "adults"),
    "botanical_garden": ("teens", "adults"),
    "hotel_ballroom": ("teens", "adults"),
    "warehouse": ("teens", "adults"),
    "rooftop": ("adults",),
    "loft": ("teens", "adults"),
    "brewery": ("adults",),
    "winery": ("adults",),
    "museum": ("teens", "adults"),
    "private_dining": ("teens", "adults"),
    "supper_club": ("adults",),
    "bowling": ("kids", "teens", "adults"),
    "waterfront": ("teens", "adults"),
    "barn": ("teens", "adults"),
    "fellowship_hall": ("kids", "teens", "adults"),
    "courtyard": ("teens", "adults"),
    "country_club": ("teens", "adults"),
    "art_studio": ("kids", "teens", "adults"),
    "science_center": ("kids", "teens"),
}
# The newer occasions each kind of venue is booked for.
VENUE_OCCASIONS: dict[str, tuple[str, ...]] = {
    "kids_play": ("gender_reveal",),
    "community_room": ("mitzvah", "quinceanera", "gender_reveal", "housewarming", "baptism", "memorial"),
    "cafe_room": ("gender_reveal", "bachelor_party", "baptism", "farewell"),
    "karaoke": ("bachelor_party", "farewell"),
    "park_pavilion": ("gender_reveal", "housewarming"),
    "botanical_garden": ("quinceanera", "gender_reveal", "baptism", "memorial"),
    "hotel_ballroom": ("mitzvah", "quinceanera", "fundraiser"),
    "warehouse": ("mitzvah", "quinceanera", "bachelor_party", "fundraiser"),
    "rooftop": ("bachelor_party", "housewarming", "farewell", "fundraiser"),
    "loft": ("mitzvah", "bachelor_party", "housewarming", "farewell", "fundraiser"),
    "brewery": ("bachelor_party", "farewell"),
    "winery": ("bachelor_party", "fundraiser"),
    "museum": ("mitzvah", "fundraiser"),
    "private_dining": ("bachelor_party", "baptism", "memorial", "farewell"),
    "supper_club": ("bachelor_party", "fundraiser", "farewell"),
    "bowling": ("mitzvah", "bachelor_party"),
    "waterfront": ("quinceanera", "bachelor_party"),
    "barn": ("quinceanera",),
    "fellowship_hall": ("mitzvah", "quinceanera", "baptism", "memorial", "fundraiser"),
    "courtyard": ("gender_reveal", "housewarming", "baptism", "memorial"),
    "country_club": ("mitzvah", "quinceanera", "fundraiser", "memorial"),
    "art_studio": ("bachelor_party",),
    "science_center": ("mitzvah",),
}

REQUIRED_VENUE_KINDS = (
    "kids_play", "kids_play", "community_room", "cafe_room", "karaoke", "park_pavilion",
    "botanical_garden", "hotel_ballroom", "warehouse",
)
OPTIONAL_VENUE_KINDS = (
    "rooftop", "loft", "brewery", "winery", "museum", "private_dining", "supper_club", "bowling",
    "waterfront", "barn", "fellowship_hall", "courtyard", "country_club", "art_studio", "science_center",
    "cafe_room", "park_pavilion",
)
SAINTS = ("Mark", "Anne", "Paul", "Brigid", "Joseph", "Catherine", "Luke", "Francis")


# --- Themes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    """A hand-authored party theme."""

    slug: str
    name: str
    keywords: tuple[str, ...]
    party_types: tuple[str, ...]
    age_groups: tuple[str, ...]
    decoration_base_cost: int
    cost_per_guest: int
    style_tags: tuple[str, ...]
    description: str


KIDS_PARTY = ("birthday", "general")
ADULT_PARTY = ("birthday", "anniversary", "engagement", "retirement", "corporate", "holiday", "general")

THEMES: tuple[Theme, ...] = (
    Theme("jazz-age", "Jazz Age Lounge", ("jazz", "gatsby", "1920s", "swing", "art deco", "speakeasy"),
          (*ADULT_PARTY, "wedding"), ("adults",), 250, 6, ("elegant", "retro", "music", "jazz"),
          "Speakeasy glamour: gold fringe, feathered centerpieces, art deco signage, a swing-era playlist "
          "and a champagne tower."),
    Theme("superhero-squad", "Superhero Squad", ("superhero", "comic book", "heroes", "capes", "action"),
          KIDS_PARTY, ("kids",), 120, 5, ("kids", "playful", "colorful", "adventure", "superhero"),
          "Comic-panel backdrops, a cape and mask station, skyline balloon arches and a hero training "
          "obstacle course."),
    Theme("royal-princess", "Royal Princess Ball", ("princess", "castle", "royal", "tiara", "fairy tale"),
          KIDS_PARTY, ("kids",), 140, 6, ("kids", "fantasy", "glam", "princess"),
          "Pastel castle backdrop, tiaras and wands for every guest, a throne photo spot and a royal "
          "tea table."),
    Theme("pirate-adventure", "Pirate Treasure Hunt", ("pirate", "treasure", "ship", "ahoy", "nautical"),
          KIDS_PARTY, ("kids",), 110, 5, ("kids", "adventure", "playful", "pirate"),
          "Treasure maps, eye patches and bandanas, a ship's-wheel photo corner and a gold-coin hunt."),
    Theme("dino-dig", "Dinosaur Dig", ("dinosaur", "dino", "jurassic", "fossils", "t-rex"),
          KIDS_PARTY, ("kids",), 100, 5, ("kids", "adventure", "nature", "dinosaur"),
          "Volcano centerpieces, a fossil sandbox dig, footprint trails and explorer hats."),
    Theme("outer-space", "Outer Space Explorer", ("space", "astronaut", "rocket", "planets", "galaxy", "stars"),
          KIDS_PARTY, ("kids", "teens"), 130, 6, ("kids", "science", "adventure", "space"),
          "Hanging planets, a cardboard rocket launch pad, glow-in-the-dark stars and astronaut helmets."),
    Theme("unicorn-rainbow", "Unicorn Rainbow Dreams", ("unicorn", "rainbow", "magical", "sparkle"),
          (*KIDS_PARTY, "baby_shower"), ("kids",), 120, 5, ("kids", "fantasy", "colorful", "unicorn"),
          "Rainbow balloon garland, glitter unicorn horns, pastel tableware and a cloud photo wall."),
    Theme("mermaid-lagoon", "Mermaid Lagoon", ("mermaid", "ocean", "seashells", "lagoon"),
          KIDS_PARTY, ("kids",), 130, 6, ("kids", "fantasy", "colorful", "mermaid"),
          "Iridescent scales, seashell tiaras, a sandy lagoon table and bubble machines."),
    Theme("under-the-sea", "Under the Sea", ("under the sea", "ocean", "fish", "coral reef", "aquarium"),
          (*KIDS_PARTY, "baby_shower"), ("kids", "all"), 150, 6, ("kids", "playful", "colorful", "nature"),
          "Blue streamer waves, balloon jellyfish, coral-reef centerpieces and a fish-bowl candy bar."),
    Theme("tropical-luau", "Tropical Luau", ("tropical", "luau", "hawaiian", "tiki", "leis", "beach"),
          ("birthday", "graduation", "retirement", "reunion", "holiday", "general"), ("all",), 220, 7,
          ("tropical", "festive", "colorful", "luau"),
          "Tiki torches, flower leis, palm-leaf table runners, a pineapple drink station and ukulele music."),
    Theme("wild-west", "Wild West Hoedown", ("western", "cowboy", "rodeo", "hoedown", "country", "barn dance"),
          ("birthday", "reunion", "corporate", "wedding", "engagement", "general"), ("all",), 200, 6,
          ("rustic", "playful", "festive", "western"),
          "Hay bales, bandanas, cowboy hats, a sheriff's-badge photo booth and a line-dance lesson."),
    Theme("disco-fever", "Disco Fever", ("disco", "70s", "mirror ball", "funk", "dance"),
          ADULT_PARTY, ("adults", "teens"), 260, 7, ("retro", "music", "glam", "disco"),
          "Mirror balls, a light-up dance floor, gold lamé backdrops and a 70s funk playlist."),
    Theme("totally-80s", "Totally Rad 80s", ("80s", "retro", "neon", "arcade", "synth"),
          (*ADULT_PARTY, "reunion"), ("adults", "teens"), 220, 6, ("retro", "music", "colorful", "80s"),
          "Neon colors, cassette-tape garlands, boom-box centerpieces, leg warmers and synth-pop hits."),
    Theme("masquerade-ball", "Venetian Masquerade Ball", ("masquerade", "masks", "venetian", "ball", "mystery"),
          (*ADULT_PARTY, "wedding"), ("adults",), 450, 10, ("elegant", "glam", "fantasy", "masquerade"),
          "Venetian masks, candelabras, deep jewel-tone linens and a string quartet."),
    Theme("casino-night", "Casino Night", ("casino", "vegas", "poker", "blackjack", "roulette", "high roller"),
          (*ADULT_PARTY, "reunion"), ("adults",), 400, 12, ("glam", "elegant", "festive", "casino"),
          "Rented gaming tables with dealers, play-money chips, card-suit centerpieces and a prize raffle."),
    Theme("vegas-lights", "Vegas Lights", ("vegas", "showgirl", "neon", "jackpot", "sin city"),
          ("birthday", "bridal_shower", "engagement", "general"), ("adults",), 380, 10,
          ("glam", "festive", "colorful", "vegas"),
          "Marquee letters, neon signs, feather boas, slot-machine favors and a red velvet rope entrance."),
    Theme("secret-garden", "Secret Garden Tea Party", ("garden", "floral", "tea party", "roses", "spring"),
          ("baby_shower", "bridal_shower", "birthday", "anniversary", "wedding", "general"), ("all",), 300, 8,
          ("floral", "elegant", "nature", "garden"),
          "Overflowing flower arrangements, mismatched china, a rose-wall backdrop and fairy lights."),
    Theme("boho-chic", "Boho Chic", ("boho", "bohemian", "macrame", "pampas", "desert"),
          ("bridal_shower", "baby_shower", "wedding", "engagement", "birthday", "general"), ("adults",), 280, 8,
          ("floral", "rustic", "nature", "boho"),
          "Macramé hangings, pampas grass, low lounge tables with floor cushions and terracotta tones."),
    Theme("rustic-barn", "Rustic Barn Celebration", ("rustic", "barn", "mason jars", "burlap", "farmhouse"),
          ("wedding", "anniversary", "reunion", "engagement", "baby_shower", "general"), ("all",), 350, 7,
          ("rustic", "nature", "classic"),
          "Burlap runners, mason-jar wildflowers, wooden crates, string lights and chalkboard signs."),
    Theme("vintage-tea", "Vintage Afternoon Tea", ("vintage", "high tea", "lace", "antique", "teacups"),
          ("bridal_shower", "baby_shower", "birthday", "retirement", "anniversary", "general"), ("adults",),
          220, 9, ("elegant", "classic", "floral", "retro"),
          "Lace tablecloths, tiered cake stands, antique teacups and a finger-sandwich spread."),
    Theme("hollywood-red-carpet", "Hollywood Red Carpet", ("hollywood", "movie star", "red carpet", "film",
                                                            "oscars", "glamour"),
          (*ADULT_PARTY, "graduation"), ("adults", "teens"), 420, 10, ("glam", "elegant", "classic", "hollywood"),
          "Red carpet and step-and-repeat, gold statuette favors, director's chairs and a paparazzi booth."),
    Theme("all-star-sports", "All-Star Sports Party", ("sports", "football", "basketball", "baseball", "soccer",
                                                       "tailgate"),
          ("birthday", "graduation", "corporate", "reunion", "general"), ("kids", "teens", "adults"), 150, 6,
          ("sporty", "playful", "festive", "sports"),
          "Team-color balloons, jersey banners, a mini-field centerpiece and a snack stadium."),
    Theme("safari-adventure", "Safari Adventure", ("safari", "animals", "lion", "explorer", "zoo"),
          (*KIDS_PARTY, "baby_shower"), ("kids",), 130, 6, ("kids", "adventure", "nature", "safari"),
          "Animal-print tableware, explorer hats and binoculars, plush animals and palm fronds."),
    Theme("jungle-jam", "Jungle Jam", ("jungle", "rainforest", "monkeys", "vines", "tropical"),
          KIDS_PARTY, ("kids",), 120, 5, ("kids", "nature", "tropical", "jungle"),
          "Hanging vines, monkey balloons, leafy table runners and a jungle-drum music corner."),
    Theme("winter-wonderland", "Winter Wonderland", ("winter wonderland", "winter", "snowflakes", "snow",
                                                      "frozen", "ice"),
          ("holiday", "birthday", "wedding", "corporate", "general"), ("all",), 400, 9,
          ("elegant", "festive", "fantasy", "winter wonderland"),
          "White birch branches, hanging paper snowflakes, silver and ice-blue linens and faux snow."),
    Theme("haunted-halloween", "Haunted Halloween Bash", ("halloween", "spooky", "haunted", "costumes",
                                                          "pumpkins", "monsters"),
          ("holiday", "birthday", "corporate", "general"), ("all",), 200, 6,
          ("spooky", "festive", "playful", "halloween"),
          "Jack-o'-lanterns, cobweb drapes, a costume contest, fog and a potion-bottle drink station."),
    Theme("merry-christmas", "Merry Christmas Party", ("christmas", "holiday", "santa", "ugly sweater", "xmas"),
          ("holiday", "corporate", "reunion", "general"), ("all",), 250, 7, ("festive", "classic", "christmas"),
          "Evergreen garlands, red and gold ornaments, a cocoa bar and an ugly-sweater contest."),
    Theme("fiesta", "Fiesta Mexicana", ("fiesta", "mexican", "piñata", "papel picado", "cinco de mayo", "taco"),
          ("birthday", "graduation", "holiday", "reunion", "corporate", "general"), ("all",), 180, 6,
          ("festive", "colorful", "playful", "fiesta"),
          "Papel picado banners, a piñata, paper flowers, serape runners and a taco bar."),
    Theme("big-top-circus", "Big Top Circus", ("circus", "clowns", "big top", "acrobats", "popcorn"),
          KIDS_PARTY, ("kids",), 140, 6, ("kids", "playful", "colorful", "circus"),
          "Red-and-white stripes, a ringmaster hat station, popcorn boxes and carnival-style games."),
    Theme("carnival-midway", "Carnival Midway", ("carnival", "midway", "games", "cotton candy", "ferris wheel"),
          ("birthday", "corporate", "reunion", "graduation", "general"), ("all",), 240, 8,
          ("festive", "playful", "colorful", "carnival"),
          "Ring toss and duck pond booths, a cotton-candy cart, prize tickets and marquee lights."),
    Theme("wizarding-school", "Wizarding School", ("wizard", "harry potter", "magic", "spells", "potions",
                                                    "witches"),
          KIDS_PARTY, ("kids", "teens"), 160, 7, ("fantasy", "kids", "adventure", "wizard"),
          "Floating candles, house banners, wand-making, a potions class and sorting-hat games."),
    Theme("game-night", "Board Game Night", ("game night", "board games", "trivia", "cards", "puzzles"),
          ("birthday", "corporate", "reunion", "retirement", "general"), ("adults", "teens"), 80, 3,
          ("playful", "classic", "modern"),
          "Game tables by difficulty, a trivia round with prizes, scorecards and snack boards."),
    Theme("karaoke-superstar", "Karaoke Superstar", ("karaoke", "singing", "pop star", "microphone", "music"),
          ("birthday", "corporate", "bridal_shower", "graduation", "general"), ("teens", "adults"), 150, 5,
          ("music", "playful", "colorful", "karaoke"),
          "Rented karaoke rig, a spotlight stage, tinsel curtain, song request cards and star trophies."),
    Theme("beach-bash", "Beach Bash", ("beach", "surf", "sand", "summer", "seaside"),
          ("birthday", "graduation", "reunion", "wedding", "general"), ("all",), 200, 6,
          ("tropical", "playful", "nature", "beach"),
          "Surfboard signs, beach balls, a sand-bucket snack bar, sunglasses favors and a lemonade stand."),
    Theme("black-tie-gala", "Black Tie Gala", ("black tie", "elegant", "formal", "gala", "champagne", "tuxedo"),
          ("wedding", "anniversary", "corporate", "holiday", "engagement", "retirement", "general"), ("adults",),
          900, 25, ("elegant", "glam", "classic"),
          "Black and ivory linens, tall floral centerpieces, candlelight, a string trio and a champagne wall."),
    Theme("modern-minimalist", "Modern Minimalist", ("minimalist", "modern", "monochrome", "clean lines",
                                                      "neutral"),
          ("wedding", "engagement", "corporate", "birthday", "anniversary", "baby_shower", "general"),
          ("adults",), 300, 8, ("minimalist", "modern", "elegant"),
          "Neutral palette, single-stem arrangements, sculptural candles and clean acrylic signage."),
    Theme("neon-glow", "Neon Glow Party", ("neon", "glow", "blacklight", "glow sticks", "uv"),
          ("birthday", "graduation", "holiday", "general"), ("teens", "adults"), 180, 6,
          ("colorful", "music", "modern", "glow"),
          "Blacklights, glow sticks and bracelets, UV face paint, neon signs and a DJ playlist."),
    Theme("camp-out", "Camp Out Under the Stars", ("camping", "campfire", "s'mores", "tents", "outdoors"),
          ("birthday", "reunion", "general"), ("kids", "teens"), 140, 7, ("nature", "adventure", "rustic", "camping"),
          "Pop-up tents, lantern lights, a s'mores station, flashlight games and star charts."),
    Theme("little-artists", "Little Artists Studio", ("art", "painting", "crafts", "easels", "artist"),
          KIDS_PARTY, ("kids",), 110, 8, ("kids", "colorful", "playful", "art"),
          "Mini easels, smocks, paint-splatter tablecloths and a gallery wall to show off the artwork."),
    Theme("mad-science", "Mad Science Lab", ("science", "lab", "experiments", "slime", "chemistry", "stem"),
          KIDS_PARTY, ("kids",), 150, 8, ("kids", "science", "playful"),
          "Lab coats and goggles, bubbling beakers, a slime station and a baking-soda volcano finale."),
    Theme("fairy-garden", "Enchanted Fairy Garden", ("fairy", "enchanted", "woodland", "pixie", "flowers"),
          (*KIDS_PARTY, "baby_shower"), ("kids",), 140, 6, ("kids", "fantasy", "floral", "fairy"),
          "Moss and mushroom centerpieces, fairy wings, flower crowns and twinkling woodland lights."),
    Theme("construction-zone", "Construction Zone", ("construction", "trucks", "diggers", "bulldozer",
                                                      "hard hats"),
          KIDS_PARTY, ("kids",), 90, 5, ("kids", "playful", "adventure", "construction"),
          "Hard hats, caution-tape banners, toy dump trucks full of snacks and a sandbox dig site."),
    Theme("race-car", "Race Car Grand Prix", ("racing", "race car", "checkered flag", "pit stop", "cars"),
          KIDS_PARTY, ("kids",), 110, 5, ("kids", "sporty", "adventure", "racing"),
          "Checkered flags, a racetrack table runner, a pit-stop snack station and trophy favors."),
    Theme("building-blocks", "Building Blocks Bash", ("lego", "building blocks", "bricks", "builder",
                                                      "minifigures"),
          KIDS_PARTY, ("kids",), 100, 5, ("kids", "colorful", "playful", "lego"),
          "Primary-color brick decor, build-off challenges, minifigure place cards and a brick candy bar."),
    Theme("mardi-gras", "Mardi Gras Carnival", ("mardi gras", "beads", "king cake", "new orleans", "parade"),
          ("holiday", "birthday", "corporate", "engagement", "general"), ("all",), 300, 8,
          ("festive", "colorful", "music", "mardi gras"),
          "Purple, green and gold, throw beads, feathered masks, a brass-band playlist and a king cake."),
    Theme("havana-nights", "Havana Nights", ("havana", "salsa", "cuban", "latin", "tropical"),
          ADULT_PARTY, ("adults",), 350, 9, ("tropical", "music", "retro", "glam"),
          "Palm fronds, vintage car props, rattan chairs, a mojito bar and a live salsa band."),
    Theme("paint-and-sip", "Paint & Sip Soirée", ("art", "wine", "painting", "canvas", "gallery"),
          ("birthday", "bridal_shower", "corporate", "retirement", "general"), ("adults",), 160, 15,
          ("modern", "colorful", "art"),
          "An instructor-led canvas session, easels for every guest, wine and a charcuterie spread."),
    Theme("oh-baby", "Oh Baby! Shower", ("baby shower", "baby", "pastel", "teddy bear", "stork"),
          ("baby_shower", "general"), ("adults",), 180, 6, ("playful", "colorful", "classic"),
          "Pastel balloons, a teddy-bear picnic table, a onesie-decorating station and a diaper cake."),
    Theme("bridal-brunch", "Bridal Brunch Bliss", ("bridal", "brunch", "mimosas", "bride", "bachelorette"),
          ("bridal_shower", "engagement", "general"), ("adults",), 220, 9, ("floral", "elegant", "glam"),
          "Blush florals, a mimosa bar, a 'something blue' guest book and gold balloon lettering."),
    Theme("cap-and-gown", "Cap & Gown Celebration", ("graduation", "grad", "class of", "diploma", "cap and gown"),
          ("graduation", "general"), ("teens", "adults"), 150, 5, ("festive", "classic", "modern"),
          "School colors, a photo timeline, mortarboard centerpieces and a memory-jar advice station."),
    Theme("golden-send-off", "Golden Send-Off", ("retirement", "golden", "gone fishing", "travel",
                                                  "next chapter"),
          ("retirement", "general"), ("adults",), 200, 6, ("classic", "elegant"),
          "Gold accents, a career-highlights slideshow, travel-map guest book and toast corner."),
    Theme("milestone-anniversary", "Milestone Anniversary", ("anniversary", "silver", "gold", "ruby", "romance"),
          ("anniversary", "general"), ("adults",), 350, 10, ("elegant", "classic", "floral"),
          "Metallic accents for the milestone, wedding-photo displays, candlelight and a first-dance replay."),
    Theme("fall-harvest", "Fall Harvest Festival", ("harvest", "autumn", "fall", "pumpkins", "hayride",
                                                    "thanksgiving"),
          ("holiday", "reunion", "birthday", "wedding", "general"), ("all",), 220, 6, ("rustic", "nature", "festive"),
          "Pumpkins and gourds, plaid throws, hay bales, an apple-cider station and lawn games."),
    Theme("new-years-eve", "New Year's Eve Countdown", ("new year", "nye", "countdown", "glitter", "midnight"),
          ("holiday", "corporate", "engagement", "birthday", "general"), ("adults",), 450, 12,
          ("glam", "festive", "elegant"),
          "Gold and black balloons, a countdown clock, glitter backdrop, noisemakers and a midnight toast."),
    Theme("video-game-arcade", "Video Game Arcade", ("video games", "gaming", "arcade", "pixel", "retro"),
          KIDS_PARTY, ("kids", "teens"), 130, 7, ("kids", "retro", "colorful", "playful", "gaming"),
          "Pixel-art banners, console tournament stations, power-up snacks and controller cookie favors."),
    Theme("spa-sleepover", "Spa Day Sleepover", ("spa", "sleepover", "pajamas", "manicure", "pamper"),
          KIDS_PARTY, ("kids", "teens"), 120, 8, ("kids", "glam", "playful", "spa"),
          "Robes and headbands, a nail-polish bar, cucumber eye masks, pillow forts and movie night."),
    Theme("wine-tasting", "Wine Country Soirée", ("wine", "vineyard", "tasting", "sommelier", "cheese"),
          ("birthday", "anniversary", "engagement", "bridal_shower", "retirement", "corporate", "general"),
          ("adults",), 250, 12, ("elegant", "rustic", "nature"),
          "Grapevine garlands, barrel tables, a guided tasting flight and a cheese and charcuterie board."),
    Theme("coastal-nautical", "Coastal Nautical", ("nautical", "sailing", "anchors", "yacht", "coastal"),
          ("wedding", "birthday", "retirement", "baby_shower", "general"), ("all",), 250, 7,
          ("classic", "nature", "elegant"),
          "Navy and white stripes, rope-wrapped centerpieces, brass anchors and signal-flag bunting."),
    Theme("mazel-tov", "Mazel Tov Celebration", ("mitzvah", "bar mitzvah", "bat mitzvah", "mazel tov", "hora",
                                                  "simcha"),
          ("mitzvah",), ("teens", "all"), 400, 9, ("festive", "music", "elegant"),
          "Blue and silver or jewel tones, a candle-lighting table, a hora dance floor, a photo montage "
          "and a sign-in board for the guests."),
    Theme("quince-gala", "Quinceañera Royal Gala", ("quinceanera", "quinceañera", "quince", "xv", "fifteen"),
          ("quinceanera",), ("teens", "all"), 450, 10, ("glam", "elegant", "festive", "fantasy"),
          "A throne for the quinceañera, a grand staircase entrance, court-of-honor table, a waltz floor "
          "and sparkling tiara-topped centerpieces."),
    Theme("last-night-out", "Last Night Out", ("bachelor", "bachelorette", "stag", "last night out",
                                               "last fling"),
          ("bachelor_party", "general"), ("adults",), 200, 9, ("glam", "festive", "music", "modern"),
          "Matching sashes or caps, a VIP booth, a night-out itinerary card, a dare jar and a toast kit."),
    Theme("gender-reveal", "He or She? Reveal Party", ("gender reveal", "he or she", "boy or girl",
                                                       "pink or blue", "reveal"),
          ("gender_reveal", "baby_shower"), ("all",), 180, 5, ("playful", "colorful", "classic"),
          "Pink and blue balloon arch, a guess-board with stickers, a reveal box or confetti cannon and "
          "old-wives'-tale games."),
    Theme("celebration-of-life", "Celebration of Life", ("celebration of life", "memorial", "remembrance",
                                                         "tribute", "in memory"),
          ("memorial",), ("all",), 150, 4, ("classic", "elegant", "floral"),
          "A photo timeline and memory table, soft florals and candles, a guest book of stories and the "
          "person's favourite music."),
    Theme("housewarming", "Home Sweet Home Open House", ("housewarming", "new home", "open house",
                                                          "home sweet home", "new place"),
          ("housewarming", "general"), ("all",), 120, 5, ("classic", "modern", "nature"),
          "A welcome sign and house-key guest book, a room-by-room tour card, potted-herb favors and a "
          "grazing table."),
)

# Occasions a theme is also made for, beyond its own list (the newer party types).
THEME_OCCASIONS: dict[str, tuple[str, ...]] = {
    "neon-glow": ("mitzvah", "quinceanera", "bachelor_party"),
    "all-star-sports": ("mitzvah", "bachelor_party"),
    "totally-80s": ("mitzvah", "bachelor_party"),
    "disco-fever": ("mitzvah", "bachelor_party"),
    "video-game-arcade": ("mitzvah",),
    "outer-space": ("mitzvah",),
    "wizarding-school": ("mitzvah",),
    "winter-wonderland": ("quinceanera", "mitzvah"),
    "fiesta": ("quinceanera", "housewarming", "gender_reveal"),
    "vegas-lights": ("bachelor_party",),
    "havana-nights": ("bachelor_party",),
    "paint-and-sip": ("bachelor_party",),
    "bridal-brunch": ("bachelor_party",),
    "boho-chic": ("bachelor_party", "housewarming"),
    "oh-baby": ("gender_reveal",),
    "under-the-sea": ("gender_reveal",),
    "rustic-barn": ("gender_reveal", "housewarming"),
    "fall-harvest": ("housewarming",),
    "vintage-tea": ("baptism", "memorial"),
    "modern-minimalist": ("gender_reveal", "housewarming", "baptism", "memorial"),
    "coastal-nautical": ("gender_reveal", "baptism"),
    "golden-send-off": ("farewell",),
    "black-tie-gala": ("fundraiser",),
    "masquerade-ball": ("fundraiser",),
    "hollywood-red-carpet": ("mitzvah", "quinceanera", "fundraiser"),
    "carnival-midway": ("fundraiser",),
    "casino-night": ("bachelor_party", "fundraiser"),
    "wine-tasting": ("bachelor_party", "housewarming", "fundraiser", "farewell"),
    "tropical-luau": ("bachelor_party", "housewarming", "farewell"),
    "karaoke-superstar": ("mitzvah", "bachelor_party", "farewell"),
    "game-night": ("bachelor_party", "housewarming", "farewell"),
    "secret-garden": ("quinceanera", "gender_reveal", "housewarming", "baptism", "memorial"),
}
# Themes made for one occasion only: "general" (an unnamed occasion) does not reach them.
OCCASION_ONLY = frozenset({
    "oh-baby", "bridal-brunch", "cap-and-gown", "golden-send-off", "milestone-anniversary", "merry-christmas",
    "new-years-eve", "haunted-halloween",
})
# When a theme is in season; none listed means any time of year.
THEME_SEASONS: dict[str, tuple[str, ...]] = {
    "winter-wonderland": ("winter",), "merry-christmas": ("winter",), "new-years-eve": ("winter",),
    "haunted-halloween": ("autumn",), "fall-harvest": ("autumn",), "beach-bash": ("summer",),
    "tropical-luau": ("spring", "summer"), "secret-garden": ("spring", "summer"), "camp-out": ("summer", "autumn"),
    "coastal-nautical": ("spring", "summer"), "mardi-gras": ("winter", "spring"), "fiesta": ("spring", "summer"),
    "under-the-sea": ("summer",), "boho-chic": ("spring", "summer", "autumn"), "rustic-barn": ("summer", "autumn"),
    "fairy-garden": ("spring", "summer"), "wine-tasting": ("summer", "autumn"),
    "all-star-sports": ("spring", "summer", "autumn"), "carnival-midway": ("spring", "summer"),
}
# Where a theme works best; none listed means indoors or out.
THEME_SETTINGS: dict[str, tuple[str, ...]] = {
    **{slug: ("outdoor",) for slug in (
        "camp-out", "beach-bash", "tropical-luau", "secret-garden", "fall-harvest", "wild-west", "rustic-barn",
        "carnival-midway", "coastal-nautical", "fairy-garden", "all-star-sports", "safari-adventure",
    )},
    **{slug: ("indoor",) for slug in (
        "casino-night", "disco-fever", "karaoke-superstar", "neon-glow", "game-night", "hollywood-red-carpet",
        "black-tie-gala", "jazz-age", "masquerade-ball", "video-game-arcade", "spa-sleepover", "vintage-tea",
        "paint-and-sip", "mad-science", "havana-nights", "new-years-eve", "little-artists", "building-blocks",
    )},
}


# --- Bakeries and cakes ---------------------------------------------------------------------------

BAKERY_FIRST = (
    "Sweet", "Golden", "Little", "Frosted", "Honey", "Velvet", "Rosy", "Sunny", "Blue Door", "Maple",
    "Sugar & ", "Butter & ",
)
BAKERY_SECOND = (
    "Crumb", "Whisk", "Spoon", "Sprinkle", "Oven", "Fox", "Bee", "Petal", "Rolling Pin", "Meringue",
    "Sparrow", "Fig",
)
BAKERY_SUFFIX = ("Bakery", "Bakeshop", "Cake Studio", "Patisserie", "Cakery", "Bake House", "Cake Co.")


@dataclass(frozen=True)
class Flavour:
    """A cake flavour: its label in cake names, a description and what it rules out."""

    key: str
    label: str
    blurb: str
    nuts: bool = False
    vegan_ok: bool = True
    gluten_free_ok: bool = True
    tags: tuple[str, ...] = ()


FLAVOURS: tuple[Flavour, ...] = (
    Flavour("chocolate", "Dark Chocolate", "rich dark chocolate sponge layered with silky ganache"),
    Flavour("chocolate", "Triple Chocolate", "chocolate sponge, chocolate mousse and a glossy chocolate glaze"),
    Flavour("vanilla", "Vanilla Bean", "tender vanilla bean sponge with whipped vanilla buttercream"),
    Flavour("vanilla", "Classic Yellow", "golden yellow cake with old-fashioned fudge frosting",
            tags=("classic",)),
    Flavour("red_velvet", "Red Velvet", "cocoa-kissed red velvet layers with tangy cream cheese frosting"),
    Flavour("lemon", "Lemon Raspberry", "bright lemon sponge with raspberry jam and lemon curd"),
    Flavour("strawberry", "Strawberries & Cream", "strawberry sponge with fresh berries and whipped cream"),
    Flavour("carrot", "Spiced Carrot", "spiced carrot cake with toasted walnuts and cream cheese frosting",
            nuts=True, tags=("rustic",)),
    Flavour("coconut", "Toasted Coconut", "coconut sponge with coconut cream frosting and toasted flakes",
            tags=("tropical",)),
    Flavour("almond", "Almond Amaretto", "almond sponge brushed with amaretto syrup and marzipan",
            nuts=True),
    Flavour("coffee", "Espresso Mocha", "espresso-soaked chocolate layers with mocha buttercream"),
    Flavour("salted_caramel", "Salted Caramel", "caramel sponge with a salted caramel drizzle"),
    Flavour("funfetti", "Confetti", "vanilla sponge loaded with rainbow sprinkles",
            tags=("colorful", "playful")),
    Flavour("cookies_and_cream", "Cookies & Cream", "chocolate sponge with crushed-cookie buttercream",
            gluten_free_ok=False),
    Flavour("matcha", "Matcha", "green tea sponge with white chocolate cream", tags=("modern",)),
    Flavour("pistachio", "Pistachio Rose", "pistachio sponge with rosewater buttercream",
            nuts=True, tags=("floral",)),
    Flavour("peanut_butter", "Chocolate Peanut Butter", "chocolate layers with peanut butter mousse",
            nuts=True),
    Flavour("banana", "Banana Caramel", "banana bread sponge with caramel and cream cheese frosting"),
    Flavour("pumpkin_spice", "Pumpkin Spice", "pumpkin spice cake with maple cream cheese frosting",
            tags=("rustic",)),
    Flavour("cherry", "Black Forest", "chocolate sponge with kirsch cherries and whipped cream",
            vegan_ok=False),
    Flavour("mango", "Mango Passion Fruit", "light chiffon with mango mousse and passion fruit curd",
            tags=("tropical",)),
    Flavour("lavender", "Honey Lavender", "honey sponge scented with lavender and lemon glaze",
            vegan_ok=False, tags=("floral",)),
)

KIDS_FLAVOURS = (
    "Dark Chocolate", "Triple Chocolate", "Vanilla Bean", "Classic Yellow", "Red Velvet", "Lemon Raspberry",
    "Strawberries & Cream", "Salted Caramel", "Confetti", "Cookies & Cream", "Chocolate Peanut Butter",
    "Banana Caramel",
)
CASUAL_FLAVOURS = ("Confetti", "Cookies & Cream", "Chocolate Peanut Butter", "Classic Yellow")

VARIANT_PREFIX = {"regular": "", "vegan": "Vegan ", "gluten_free": "Gluten-Free ",
                  "vegan_gf": "Vegan Gluten-Free ", "sugar_free": "Sugar-Free "}
VARIANT_SURCHARGE = {"regular": 0.0, "vegan": 0.5, "gluten_free": 0.5, "vegan_gf": 1.0, "sugar_free": 0.75}
VARIANT_NOTE = {
    "regular": "",
    "vegan": " Made without eggs or dairy, with plant butter and oat milk.",
    "gluten_free": " Baked with a certified gluten-free flour blend in dedicated pans.",
    "vegan_gf": " Egg-, dairy- and gluten-free, baked in a dedicated allergen-aware kitchen.",
    "sugar_free": " Sweetened with allulose and monk fruit instead of sugar; suitable for diabetic guests.",
}
# Bakeries under kosher or halal supervision; their cakes carry the label (except designs set with gelatin).
CERTIFICATIONS: dict[str, tuple[str, ...]] = {
    "Bluebonnet Bakeshop": ("kosher", "halal"),
    "Bedford Butter & Crumb": ("kosher",),
    "Golden Gate Cakery": ("kosher", "halal"),
    "Windy City Cake Co.": ("kosher", "halal"),
    "Puget Sound Patisserie": ("halal",),
    "Mile High Crumb": ("halal",),
    "Biscayne Bay Bakehouse": ("kosher",),
    "Back Bay Bake Shop": ("kosher",),
    "Silver Lake Sweets": ("kosher", "halal"),
    "Peachtree Petit Fours": ("halal",),
    "Balboa Bake House": ("halal",),
}
SUGAR_FREE_DESIGNS = ("layer", "cupcakes")
ALL_VARIANTS = ("regular", "vegan", "gluten_free", "vegan_gf")


@dataclass(frozen=True)
class Design:
    """A cake design combined with a flavour (or fixed to one, for local specialties)."""

    key: str
    title: str
    tags: tuple[str, ...]
    price: tuple[float, float]
    min_servings: tuple[int, int]
    max_servings: tuple[int, int]
    lead: tuple[int, int]
    blurb: str
    variants: tuple[str, ...] = ALL_VARIANTS
    gelatin: bool = False
    flavour: Flavour | None = None
    flavours: tuple[str, ...] = ()
    kid_friendly: bool = False


DESIGNS: dict[str, Design] = {
    design.key: design
    for design in (
        Design("layer", "Layer Cake", ("classic",), (4.5, 6.0), (8, 12), (24, 40), (2, 3),
               "stacked three layers high and finished in smooth buttercream"),
        Design("naked", "Naked Cake with Fresh Berries", ("rustic", "floral", "nature"), (5.0, 6.5), (10, 16),
               (30, 60), (2, 4), "left semi-naked and crowned with seasonal berries and blooms"),
        Design("tiered", "Tiered Wedding Cake", ("elegant", "classic", "floral"), (7.5, 10.5), (50, 80),
               (150, 300), (10, 14), "built in three to five tiers with sugar flowers and a tasting beforehand"),
        Design("sheet", "Sheet Cake", ("classic", "playful"), (2.75, 3.75), (12, 24), (60, 120), (1, 2),
               "baked in a half or full sheet with a piped border and custom message", kid_friendly=True),
        Design("drip", "Drip Cake", ("modern", "glam", "colorful"), (5.5, 7.0), (10, 16), (30, 50), (3, 4),
               "finished with a chocolate drip, macarons and gold leaf"),
        Design("cupcakes", "Cupcake Tower", ("playful", "colorful"), (3.25, 4.25), (12, 24), (100, 200),
               (1, 3), "baked as cupcakes swirled with buttercream and stacked on a tiered stand", kid_friendly=True),
        Design("bundt", "Bundt Cake", ("classic", "rustic"), (3.5, 4.5), (8, 10), (12, 16), (1, 2),
               "baked in a fluted bundt pan and finished with a pourable glaze"),
        Design("geode", "Geode Cake", ("glam", "modern", "elegant"), (8.0, 11.0), (12, 20), (40, 80), (5, 7),
               "carved open to reveal hand-tinted rock-candy crystals"),
        Design("minimal", "Minimalist Buttercream Cake", ("minimalist", "modern", "elegant"), (5.5, 7.0),
               (10, 20), (40, 80), (3, 5), "covered in smooth, textured buttercream with a single sculptural bloom"),
        Design("pressed_flower", "Pressed Flower Cake", ("floral", "nature", "elegant"), (6.0, 8.0), (10, 20),
               (40, 60), (3, 5), "decorated with edible pressed pansies and violas"),
        Design("pinata", "Piñata Surprise Cake", ("playful", "festive", "kids", "colorful"), (4.5, 5.5),
               (10, 14), (24, 36), (2, 3), "hollowed out and filled with candy that spills out when it is cut"),
        Design("lambeth", "Retro Lambeth Cake", ("retro", "elegant", "classic"), (6.0, 8.0), (10, 16), (30, 60),
               (3, 5), "piped in over-the-top vintage Lambeth swags, cherries and ruffles"),
        Design("superhero_sheet", "Superhero Sheet Cake", ("kids", "superhero", "playful", "colorful"),
               (2.75, 3.75), (12, 20), (60, 120), (1, 2),
               "decorated with a comic-book skyline, a hero emblem and the birthday child's name"),
        Design("superhero_sculpted", "Superhero Skyline Cake", ("kids", "superhero", "colorful", "adventure"),
               (5.0, 6.5), (15, 25), (40, 80), (4, 6),
               "sculpted into a city skyline with a fondant caped hero on top", gelatin=True),
        Design("dinosaur", "Dinosaur Volcano Cake", ("kids", "dinosaur", "adventure", "nature"), (4.5, 6.0),
               (12, 20), (30, 60), (3, 5), "shaped into an erupting volcano ringed with toy dinosaurs"),
        Design("unicorn", "Unicorn Cake", ("kids", "unicorn", "fantasy", "colorful"), (4.5, 6.0), (10, 16),
               (24, 50), (3, 4), "topped with a gilded horn, ears and a rainbow buttercream mane"),
        Design("princess", "Princess Castle Cake", ("kids", "princess", "fantasy", "glam"), (5.5, 7.0),
               (15, 25), (40, 80), (4, 6), "built as a castle with ice-cream-cone turrets", gelatin=True),
        Design("mermaid", "Mermaid Tail Cake", ("kids", "mermaid", "fantasy", "colorful"), (5.0, 6.5), (12, 20),
               (30, 60), (3, 5), "finished with shimmering scales and a chocolate mermaid tail"),
        Design("pirate", "Pirate Treasure Chest Cake", ("kids", "pirate", "adventure"), (5.0, 6.5), (15, 20),
               (30, 60), (3, 5), "carved as a treasure chest overflowing with chocolate coins"),
        Design("rocket", "Rocket Ship Galaxy Cake", ("kids", "space", "science", "adventure"), (5.0, 6.5),
               (12, 20), (30, 60), (3, 5), "glazed in a swirling galaxy mirror glaze with a fondant rocket",
               gelatin=True),
        Design("blocks", "Building Block Cake", ("kids", "lego", "colorful", "playful"), (4.0, 5.5), (12, 20),
               (30, 80), (2, 4), "stacked from bright candy-melt building bricks"),
        Design("race_track", "Race Track Cake", ("kids", "racing", "sporty"), (4.0, 5.0), (12, 20), (40, 100),
               (2, 3), "with a cookie-crumb racetrack, toy cars and a checkered finish line"),
        Design("safari", "Jungle Safari Cake", ("kids", "safari", "jungle", "nature"), (4.5, 6.0), (12, 20),
               (30, 60), (3, 5), "wrapped in palm leaves with fondant safari animals", gelatin=True),
        Design("art_deco", "Art Deco Gold Cake", ("elegant", "retro", "glam", "jazz", "gatsby"), (6.5, 8.5),
               (12, 20), (40, 100), (4, 6), "painted with gold art deco fans and pearl strands"),
        Design("disco", "Disco Ball Cake", ("glam", "retro", "music", "disco"), (6.0, 8.0), (12, 20), (30, 60),
               (4, 5), "covered in mirrored silver sugar tiles that catch the light"),
        Design("luau", "Luau Hibiscus Cake", ("tropical", "luau", "festive", "colorful"), (4.5, 6.0), (10, 16),
               (30, 60), (2, 4), "decorated with sugar hibiscus flowers and toasted coconut",
               flavours=("Toasted Coconut", "Mango Passion Fruit", "Lemon Raspberry", "Vanilla Bean")),
        Design("halloween", "Haunted Halloween Cake", ("spooky", "festive", "halloween"), (4.0, 5.5), (12, 20),
               (30, 60), (2, 4), "draped in black buttercream cobwebs with candy pumpkins",
               flavours=("Dark Chocolate", "Triple Chocolate", "Red Velvet", "Pumpkin Spice", "Salted Caramel")),
        Design("yule_log", "Christmas Yule Log", ("festive", "classic", "christmas"), (4.5, 6.0), (8, 12),
               (14, 24), (2, 3), "rolled into a bûche de Noël with meringue mushrooms",
               flavours=("Dark Chocolate", "Triple Chocolate", "Espresso Mocha", "Black Forest", "Salted Caramel")),
        Design("boho", "Boho Pampas Cake", ("boho", "floral", "rustic"), (6.0, 7.5), (12, 20), (40, 80), (3, 5),
               "finished in terracotta buttercream with dried pampas and bunny tails"),
        Design("neon", "Neon Glow Cake", ("colorful", "modern", "neon", "glow"), (5.0, 6.5), (12, 20), (30, 60),
               (3, 4), "piped in neon buttercream that glows under blacklight"),
        Design("winter", "Snowflake Cake", ("elegant", "festive", "winter wonderland"), (5.5, 7.5), (12, 20),
               (40, 80), (3, 5), "covered in white buttercream and silver sugar snowflakes"),
    )
}

GENERAL_DESIGNS = (
    "layer", "layer", "naked", "tiered", "sheet", "drip", "cupcakes", "bundt", "geode", "minimal",
    "pressed_flower", "pinata", "lambeth",
)
THEMED_DESIGNS = (
    "superhero_sculpted", "dinosaur", "unicorn", "princess", "mermaid", "pirate", "rocket", "blocks",
    "race_track", "safari", "art_deco", "disco", "luau", "halloween", "yule_log", "boho", "neon", "winter",
)


def _specialty(key: str, title: str, flavour: Flavour, tags: tuple[str, ...], price: tuple[float, float],
               servings: tuple[int, int], lead: tuple[int, int], blurb: str, variant: str) -> Design:
    """A local specialty: a design fixed to one flavour, dietary variant and serving range."""
    return Design(key, title, tags, price, (servings[0], servings[0] + 2), (servings[1], servings[1] + 10),
                  lead, blurb, (variant,), flavour=flavour)


SPECIALTIES: dict[str, Design] = {
    design.key: design
    for design in (
        _specialty("texas_sheet", "Texas Sheet Cake",
                   Flavour("chocolate", "", "thin, fudgy chocolate cake", nuts=True),
                   ("classic", "rustic", "western"), (2.75, 3.5), (15, 60), (1, 2),
                   "poured with warm chocolate icing and toasted pecans", "regular"),
        _specialty("tres_leches", "Tres Leches Cake",
                   Flavour("tres_leches", "", "airy sponge soaked in three milks", vegan_ok=False),
                   ("classic", "festive", "fiesta"), (3.5, 4.5), (12, 48), (1, 2),
                   "topped with whipped cream, cinnamon and fresh strawberries", "regular"),
        _specialty("ny_cheesecake", "New York Cheesecake",
                   Flavour("cheesecake", "", "dense, tangy cream cheese filling on a graham crust"),
                   ("classic", "elegant"), (4.5, 5.5), (10, 24), (1, 2),
                   "baked low and slow and served with sour cherry compote", "regular"),
        _specialty("black_and_white", "Black and White Cake",
                   Flavour("vanilla", "", "vanilla sponge layered with dark chocolate fudge"),
                   ("classic", "retro", "minimalist"), (4.0, 5.0), (10, 30), (2, 3),
                   "frosted half vanilla, half chocolate like the deli cookie", "regular"),
        _specialty("meyer_lemon_olive", "Meyer Lemon Olive Oil Cake",
                   Flavour("lemon", "", "moist Meyer lemon sponge made with olive oil"),
                   ("minimalist", "modern", "nature"), (4.0, 5.0), (8, 20), (1, 2),
                   "glazed with lemon syrup and candied peel", "vegan"),
        _specialty("coffee_crunch", "Coffee Crunch Cake",
                   Flavour("coffee", "", "chiffon cake with coffee whipped cream"),
                   ("classic", "retro"), (4.5, 5.5), (10, 30), (2, 3),
                   "covered in shards of crunchy coffee honeycomb candy", "regular"),
        _specialty("cassata", "Chicago Cassata Cake",
                   Flavour("strawberry", "", "rum-soaked sponge with strawberries and custard"),
                   ("classic", "festive"), (4.5, 5.5), (12, 40), (2, 3),
                   "iced in whipped cream and studded with fresh berries", "regular"),
        _specialty("chicago_cheesecake", "Chocolate Chip Cheesecake",
                   Flavour("cheesecake", "", "creamy cheesecake swirled with chocolate chips"),
                   ("classic",), (4.0, 5.0), (10, 24), (1, 2),
                   "baked on a shortbread crust and finished with ganache", "regular"),
        _specialty("espresso_hazelnut", "Espresso Hazelnut Torte",
                   Flavour("coffee", "", "flourless hazelnut and espresso torte", nuts=True),
                   ("elegant", "modern"), (5.0, 6.0), (8, 20), (2, 3),
                   "finished with praline crunch and cocoa nibs", "gluten_free"),
        _specialty("rainier_cherry", "Rainier Cherry Chiffon Cake",
                   Flavour("cherry", "", "feather-light chiffon with Rainier cherry compote"),
                   ("nature", "floral"), (4.5, 5.5), (10, 30), (2, 3),
                   "frosted in mascarpone cream and topped with fresh cherries", "regular"),
        _specialty("palisade_peach", "Palisade Peach Cake",
                   Flavour("peach", "", "brown-butter cake baked with Palisade peaches"),
                   ("rustic", "nature"), (4.0, 5.0), (10, 30), (1, 2),
                   "finished with a peach glaze and a crumble top", "regular"),
        _specialty("chocolate_stout", "Chocolate Stout Cake",
                   Flavour("chocolate", "", "deep chocolate cake made with local stout"),
                   ("rustic", "classic"), (4.0, 5.0), (10, 30), (2, 3),
                   "topped with Irish cream frosting", "regular"),
        _specialty("key_lime", "Key Lime Chiffon Cake",
                   Flavour("lime", "", "key lime chiffon with lime curd"),
                   ("tropical", "colorful", "beach"), (4.0, 5.0), (10, 36), (1, 2),
                   "topped with toasted meringue and candied lime", "regular"),
        _specialty("guava_cheese", "Guava & Cream Cheese Cake",
                   Flavour("guava", "", "vanilla sponge layered with guava paste and cream cheese"),
                   ("tropical", "festive"), (3.75, 4.75), (10, 40), (1, 2),
                   "a Cuban bakery classic, finished with guava glaze", "regular"),
        _specialty("boston_cream", "Boston Cream Cake",
                   Flavour("vanilla", "", "golden sponge filled with vanilla pastry cream"),
                   ("classic", "retro"), (3.75, 4.75), (8, 24), (1, 2),
                   "crowned with a shiny chocolate glaze", "regular"),
        _specialty("cranberry_orange", "Cranberry Orange Bundt",
                   Flavour("cranberry_orange", "", "orange-zest bundt studded with cranberries"),
                   ("rustic", "festive"), (3.25, 4.25), (8, 14), (1, 2),
                   "drizzled with orange glaze", "vegan"),
        _specialty("hummingbird", "Hummingbird Cake",
                   Flavour("hummingbird", "", "banana-pineapple spice cake with pecans", nuts=True),
                   ("classic", "rustic"), (4.0, 5.0), (10, 36), (2, 3),
                   "a Southern classic under thick cream cheese frosting", "regular"),
        _specialty("caramel_cake", "Southern Caramel Cake",
                   Flavour("salted_caramel", "", "buttery yellow layers"),
                   ("classic",), (4.0, 5.0), (10, 30), (2, 3),
                   "poured with cooked caramel icing that sets like fudge", "regular"),
        _specialty("king_cake", "Mardi Gras King Cake",
                   Flavour("cinnamon", "", "braided cinnamon brioche ring"),
                   ("festive", "colorful", "mardi gras"), (2.75, 3.5), (10, 30), (1, 2),
                   "iced and sanded with purple, green and gold sugar, with a baby hidden inside", "regular"),
        _specialty("doberge", "Doberge Cake",
                   Flavour("chocolate", "", "eight thin layers of butter cake and chocolate pudding"),
                   ("classic", "elegant", "retro"), (4.5, 5.5), (12, 36), (2, 3),
                   "sealed in a poured chocolate fondant shell", "regular"),
        _specialty("ube_chiffon", "Ube Chiffon Cake",
                   Flavour("ube", "", "purple yam chiffon with ube halaya"),
                   ("colorful", "modern"), (4.5, 5.5), (10, 30), (2, 3),
                   "frosted in ube whipped cream with coconut flakes", "regular"),
        _specialty("matcha_crepe", "Matcha Strawberry Crepe Cake",
                   Flavour("matcha", "", "twenty paper-thin matcha crepes with strawberry cream"),
                   ("minimalist", "modern"), (6.0, 7.5), (8, 16), (2, 3),
                   "dusted with matcha and topped with fresh strawberries", "regular"),
        _specialty("marionberry", "Marionberry Buttermilk Cake",
                   Flavour("berry", "", "buttermilk cake swirled with Oregon marionberries"),
                   ("rustic", "nature"), (3.75, 4.75), (10, 30), (1, 2),
                   "finished with a lemon glaze", "regular"),
        _specialty("hazelnut_chocolate", "Hazelnut Chocolate Cake",
                   Flavour("chocolate", "", "chocolate cake with Willamette Valley hazelnut praline",
                           nuts=True),
                   ("rustic", "modern"), (4.5, 5.5), (10, 30), (2, 3),
                   "covered in dark chocolate ganache and toasted hazelnuts", "vegan"),
        _specialty("peach_pound", "Georgia Peach Pound Cake",
                   Flavour("peach", "", "dense butter pound cake folded with fresh peaches"),
                   ("classic", "rustic"), (3.25, 4.25), (10, 20), (1, 2),
                   "glazed with peach syrup", "regular"),
        _specialty("sweet_tea_lemon", "Sweet Tea Lemon Cake",
                   Flavour("lemon", "", "tea-infused lemon cake"),
                   ("classic", "floral"), (3.75, 4.75), (10, 30), (2, 3),
                   "frosted with lemon buttercream and candied lemon slices", "regular"),
        _specialty("churro_cake", "Churro Cake",
                   Flavour("cinnamon", "", "cinnamon-sugar butter cake with dulce de leche"),
                   ("festive", "playful", "fiesta"), (3.5, 4.5), (10, 36), (1, 2),
                   "rolled edges in cinnamon sugar like a fresh churro", "regular"),
        _specialty("baja_lime_coconut", "Baja Lime Coconut Cake",
                   Flavour("coconut", "", "coconut sponge with lime curd"),
                   ("tropical", "beach", "colorful"), (4.0, 5.0), (10, 36), (2, 3),
                   "finished with toasted coconut and lime zest", "vegan"),
    )
}


# fmt: on


# --- Builders -------------------------------------------------------------------------------------


def _ordered(values: set[str], vocabulary: tuple[str, ...]) -> list[str]:
    """The chosen values in vocabulary order."""
    return [value for value in vocabulary if value in values]


def _round_to(value: float, step: float) -> float:
    """Round to the nearest multiple of `step`."""
    return round(value / step) * step


def build_cities() -> list[Record]:
    """City records."""
    return [
        {"slug": c.slug, "name": c.name, "state": c.state, "aliases": list(c.aliases), "cost_index": c.cost_index}
        for c in CITIES
    ]


def _venue(rng: random.Random, city: City, kind: VenueKind, taken: set[str]) -> Record:
    """One venue of `kind` in `city` with a name not yet in `taken`."""
    for _ in range(200):
        context = {
            "hood": rng.choice(city.hoods),
            "street": rng.choice(city.streets),
            "park": rng.choice(city.parks),
            "water": rng.choice(city.waters),
            "surname": rng.choice(SURNAMES),
            "city": city.name,
            "saint": rng.choice(SAINTS),
            "number": str(rng.randint(2, 9) * 100 + rng.randint(1, 20)),
        }
        pattern = rng.choice(kind.names)
        name = pattern.format(**context)
        if name not in taken:
            break
    else:
        raise RuntimeError(f"no free {kind.key} name in {city.slug}")
    taken.add(name)
    if "{hood}" not in pattern:
        context["hood"] = city.name

    capacity = _round_to(rng.randint(*kind.capacity), 5 if kind.capacity[1] > 60 else 1)
    capacity = int(min(max(capacity, kind.capacity[0]), kind.capacity[1]))
    min_guests = max(2, int(capacity * rng.uniform(*kind.min_share)))
    min_guests = min(min_guests, capacity - 1)
    base_price = int(_round_to(rng.uniform(*kind.base_price) * city.cost_index, 25))
    base_price = min(max(base_price, 150), 15000)
    per_guest = min(max(round(rng.uniform(*kind.per_guest) * city.cost_index), 0), 150)

    setting = rng.choice(kind.settings)
    amenities = set(kind.amenities)
    extras = sorted(set(kind.extra_amenities))
    amenities.update(rng.sample(extras, rng.randint(1, min(3, len(extras)))))
    if "Garden" in name:
        amenities.add("garden")
        setting = "mixed" if setting == "indoor" else setting
    if "Rooftop" in name:
        amenities.add("rooftop")
    if any(word in name for word in ("Boathouse", "Pier", "Marina")):
        amenities.add("waterfront")

    party_types = set(kind.party_types) | {"general"}
    party_types.update(rng.sample(kind.extra_party_types, rng.randint(1, len(kind.extra_party_types))))

    feature = rng.choice(kind.features)
    description = rng.choice(kind.blurbs).format(
        feature=feature, capacity=capacity, standing=int(_round_to(capacity * 1.5, 10)), **context
    )
    return {
        "name": name,
        "city": city.slug,
        "capacity": capacity,
        "min_guests": min_guests,
        "base_price": base_price,
        "price_per_guest": per_guest,
        "setting": setting,
        "amenities": _ordered(amenities, AMENITIES),
        "party_types": _ordered(party_types | set(VENUE_OCCASIONS[kind.key]), PARTY_TYPES),
        "audiences": list(VENUE_AUDIENCES[kind.key]),
        "rating": round(rng.uniform(*kind.rating), 1),
        "description": description,
    }


def build_venues(rng: random.Random) -> list[Record]:
    """Venue records: the kinds every city needs plus a deterministic sample of the rest."""
    venues: list[Record] = []
    for city in CITIES:
        optional = [key for key in OPTIONAL_VENUE_KINDS if city.slug not in VENUE_KINDS[key].skip_cities]
        keys = list(REQUIRED_VENUE_KINDS) + rng.sample(optional, VENUES_PER_CITY - len(REQUIRED_VENUE_KINDS))
        taken: set[str] = set()
        venues.extend(_venue(rng, city, VENUE_KINDS[key], taken) for key in keys)
    return venues


def _theme_party_types(theme: Theme) -> list[str]:
    """The occasions a theme suits, in vocabulary order."""
    types = set(theme.party_types) | set(THEME_OCCASIONS.get(theme.slug, ()))
    if theme.slug in OCCASION_ONLY:
        types.discard("general")
    return _ordered(types, PARTY_TYPES)


def build_themes() -> list[Record]:
    """Theme records, straight from the hand-authored table."""
    return [
        {
            "slug": t.slug,
            "name": t.name,
            "keywords": list(t.keywords),
            "party_types": _theme_party_types(t),
            "seasons": list(THEME_SEASONS.get(t.slug, ())),
            "settings": list(THEME_SETTINGS.get(t.slug, ())),
            "age_groups": list(t.age_groups),
            "decoration_base_cost": t.decoration_base_cost,
            "cost_per_guest": t.cost_per_guest,
            "style_tags": list(t.style_tags),
            "description": t.description,
        }
        for t in THEMES
    ]


def build_bakeries(rng: random.Random) -> list[Record]:
    """Bakery records: each city's local name plus names combined from the name parts."""
    used: set[str] = set()
    bakeries: list[Record] = []
    for city in CITIES:
        names = [city.local_bakery]
        used.add(city.local_bakery)
        while len(names) < city.bakeries:
            if rng.random() < 0.3:
                name = f"{rng.choice(SURNAMES)}'s {rng.choice(BAKERY_SUFFIX)}"
            else:
                first = rng.choice(BAKERY_FIRST)
                joiner = "" if first.endswith("& ") else " "
                name = f"{first}{joiner}{rng.choice(BAKERY_SECOND)} {rng.choice(BAKERY_SUFFIX)}"
            if name not in used:
                used.add(name)
                names.append(name)
        bakeries.extend({"name": name, "city": city.slug, "rating": round(rng.uniform(3.9, 4.9), 1)} for name in names)
    return bakeries


def _dietary(variant: str, flavour: Flavour, design: Design, bakery: str) -> list[str]:
    """Dietary labels implied by the variant, the flavour's nuts, the design's gelatin and the bakery's
    certification; no cake contains shellfish, and a vegetarian one suits pescatarians too."""
    labels: set[str] = {"shellfish_free"}
    if not design.gelatin:
        labels.update(CERTIFICATIONS.get(bakery, ()))
    if variant == "sugar_free":
        labels.add("sugar_free")
    if variant in ("vegan", "vegan_gf"):
        labels.update({"vegan", "vegetarian", "pescatarian", "dairy_free", "egg_free"})
    elif not design.gelatin:
        labels.update({"vegetarian", "pescatarian"})
    if variant in ("gluten_free", "vegan_gf"):
        labels.add("gluten_free")
    if not flavour.nuts:
        labels.add("nut_free")
    return _ordered(labels, DIETARY)


def _cake(rng: random.Random, city: City, bakery: str, design: Design, flavour: Flavour, variant: str) -> Record:
    """One cake record priced for the city."""
    if design.flavour is not None:
        flavour = design.flavour
        name = f"{VARIANT_PREFIX[variant]}{design.title}"
        surcharge = 0.0
    else:
        name = f"{VARIANT_PREFIX[variant]}{flavour.label} {design.title}"
        surcharge = VARIANT_SURCHARGE[variant]
    price = _round_to((rng.uniform(*design.price) + surcharge) * city.cost_index, 0.25)
    price = min(max(price, 2.5), 15.0)
    min_servings = rng.randint(*design.min_servings)
    max_servings = max(rng.randint(*design.max_servings), min_servings + 4)
    tags = list(dict.fromkeys(design.tags + flavour.tags))
    description = f"{flavour.blurb[0].upper()}{flavour.blurb[1:]}, {design.blurb}.{VARIANT_NOTE[variant]}"
    return {
        "bakery": bakery,
        "city": city.slug,
        "name": name,
        "flavor": flavour.key,
        "price_per_serving": price,
        "dietary": _dietary(variant, flavour, design, bakery),
        "min_servings": min_servings,
        "max_servings": max_servings,
        "lead_time_days": rng.randint(*design.lead),
        "style_tags": tags,
        "description": description,
    }


def _pick_flavour(rng: random.Random, design: Design, variant: str, labels: tuple[str, ...] = ()) -> Flavour:
    """A flavour that suits `design` and can be baked in `variant` (restricted to `labels` when given)."""
    if not labels:
        labels = design.flavours or (KIDS_FLAVOURS if "kids" in design.tags or design.kid_friendly else ())
    pool = [
        f
        for f in FLAVOURS
        if (not labels or f.label in labels)
        and not ("elegant" in design.tags and f.label in CASUAL_FLAVOURS)
        and (f.vegan_ok or variant not in ("vegan", "vegan_gf"))
        and (f.gluten_free_ok or variant not in ("gluten_free", "vegan_gf"))
    ]
    return rng.choice(pool)


def _random_variant(rng: random.Random) -> str:
    """Mostly regular cakes, with a share of allergy-friendly ones."""
    return rng.choices(ALL_VARIANTS, weights=(60, 15, 15, 10))[0]


def build_cakes(rng: random.Random, bakeries: list[Record]) -> list[Record]:
    """Cake records: every city's must-haves, its specialties, then a few random cakes per bakery."""
    cakes: list[Record] = []
    for city in CITIES:
        names = [b["name"] for b in bakeries if b["city"] == city.slug]
        rng.shuffle(names)
        menus: dict[str, set[str]] = {name: set() for name in names}
        sheet = DESIGNS["superhero_sheet"]
        layer = DESIGNS["layer"]
        allergy_friendly = DESIGNS[rng.choice(("cupcakes", "sheet"))]
        themed = DESIGNS[rng.choice(THEMED_DESIGNS)]
        planned: list[tuple[Design, Flavour, str]] = [
            (
                sheet,
                _pick_flavour(rng, sheet, "gluten_free", ("Vanilla Bean", "Dark Chocolate", "Confetti")),
                "gluten_free",
            ),
            (layer, _pick_flavour(rng, layer, "vegan"), "vegan"),
            (allergy_friendly, _pick_flavour(rng, allergy_friendly, "vegan_gf"), "vegan_gf"),
            (layer, _pick_flavour(rng, layer, "regular"), "regular"),
            (themed, _pick_flavour(rng, themed, "regular"), "regular"),
        ]
        for key in city.specialties:
            design = SPECIALTIES[key]
            planned.append((design, design.flavour or FLAVOURS[0], design.variants[0]))
        for _bakery in names:
            for _ in range(rng.randint(2, 3)):
                pool = THEMED_DESIGNS if rng.random() < 0.35 else GENERAL_DESIGNS
                design = DESIGNS[rng.choice(pool)]
                variant = _random_variant(rng)
                planned.append((design, _pick_flavour(rng, design, variant), variant))

        for index, (design, flavour, variant) in enumerate(planned):
            for offset in range(len(names)):
                bakery = names[(index + offset) % len(names)]
                cake = _cake(rng, city, bakery, design, flavour, variant)
                if cake["name"] not in menus[bakery]:
                    menus[bakery].add(cake["name"])
                    cakes.append(cake)
                    break
        has_tiered = any(cake["city"] == city.slug and "Tiered" in cake["name"] for cake in cakes)
        cakes.extend(_extra_cakes(city, names, menus, tiered=not has_tiered))
    return cakes


def _extra_cakes(city: City, names: list[str], menus: dict[str, set[str]], *, tiered: bool) -> list[Record]:
    """Each city's sugar-free cakes, and a tiered cake for big parties where the menus lack one, drawn from a
    generator of their own so the rest of the catalog stays as it was."""
    rng = random.Random(f"{SEED}:{city.slug}:sugar-free")
    planned = [(key, "sugar_free") for key in SUGAR_FREE_DESIGNS] + ([("tiered", "regular")] if tiered else [])
    cakes = []
    for index, (key, variant) in enumerate(planned):
        design = DESIGNS[key]
        bakery = names[index % len(names)]
        cake = _cake(rng, city, bakery, design, _pick_flavour(rng, design, variant), variant)
        if cake["name"] not in menus[bakery]:
            menus[bakery].add(cake["name"])
            cakes.append(cake)
    return cakes


def build() -> dict[str, Any]:
    """The whole catalog."""
    rng = random.Random(SEED)
    venues = build_venues(rng)
    bakeries = build_bakeries(rng)
    cakes = build_cakes(rng, bakeries)
    return {
        "version": 1,
        "cities": build_cities(),
        "venues": venues,
        "themes": build_themes(),
        "bakeries": bakeries,
        "cakes": cakes,
    }


def main() -> None:
    """Write catalog.json next to this file."""
    data = build()
    OUTPUT.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = ", ".join(f"{len(data[key])} {key}" for key in ("cities", "venues", "themes", "bakeries", "cakes"))
    print(f"wrote {OUTPUT.name}: {counts}")


if __name__ == "__main__":
    main()
