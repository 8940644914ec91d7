"""Invented vocabularies for the fixtures: merchants, places, people, products and coding.

Every name and number here is made up. Statement merchant names are at most 18 characters, as the
card processor prints them; longer real names arrive truncated (``COASTAL WELDING SU``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Merchant:
    """A merchant location: how the statement prints it and how employees type it."""

    statement: str
    group: str
    kind: str
    city: str
    state: str
    street: str
    zip5: str
    typed: tuple[str, ...]


@dataclass(frozen=True)
class Company:
    """The card account holder printed in the statement's card block."""

    account_code: str
    name: str
    customer_id: str
    street: str
    city_line: str


COMPANY = Company(
    account_code="Z-11Q",
    name="EXAMPLE CO, LLC",
    customer_id="QQ1AA",
    street="100 SAMPLE AVE #1",
    city_line="ANYTOWN, TX 77000-0000",
)

M = Merchant
# One merchant per entry reads better than one field per line.
# fmt: off
MERCHANTS: tuple[Merchant, ...] = (
    # fuel
    M("GASMART #0042", "FUEL", "fuel", "ANYTOWN", "TX", "500 MAIN ST", "77001",
      ("Gasmart", "GasMart #42", "GASMART 0042", "Gas Mart")),
    M("GASMART #0117", "FUEL", "fuel", "SAN ANTONIO", "TX", "2210 FREDERICKSBURG RD", "78201",
      ("Gasmart", "Gas-Mart 117", "GASMART STORE 117")),
    M("PETRO PLUS #0311", "FUEL", "fuel", "LAKE CHARLES", "LA", "4100 BROAD ST", "70601",
      ("Petro Plus", "PetroPlus 311", "Petro+ Lake Charles")),
    M("BAYOU EXPRESS #202", "FUEL", "fuel", "LAKEVILLE", "LA", "18 BAYOU RD", "70555",
      ("Bayou Express", "Bayou Exp. 2021", "BAYOU EXPRESS")),
    M("REDRIVER TRAVEL CE", "FUEL", "fuel", "OKLAHOMA CITY", "OK", "9 I-35 SERVICE RD", "73129",
      ("Red River Travel Center", "RedRiver Travel Ctr", "Red River Travel")),
    M("QUIKFILL 0093", "FUEL", "fuel", "KATY", "TX", "1500 PIN OAK RD", "77494",
      ("Quikfill", "Quik Fill #93", "QUIKFILL")),
    # restaurants
    M("TACO HACIENDA #14", "RESTAURANTS", "meal", "SAN ANTONIO", "TX", "77 CALLE OCHO", "78207",
      ("Taco Hacienda", "Taco Hacienda 14", "TACO HACIENDA")),
    M("BIG TEX BBQ", "RESTAURANTS", "meal", "KATY", "TX", "230 FRONT ST", "77494",
      ("Big Tex BBQ", "Big Tex Bar-B-Q", "BIG TEX")),
    M("CRESCENT CITY CAFE", "RESTAURANTS", "meal", "BATON ROUGE", "LA", "12 LEVEE ST", "70802",
      ("Crescent City Cafe", "Crescent City Café", "Crescent Cafe")),
    M("BLUEBONNET DINER #", "RESTAURANTS", "meal", "SPRINGTOWN", "TX", "301 HWY 199", "76082",
      ("Bluebonnet Diner", "Bluebonnet Diner #12", "BLUEBONNET DINER")),
    # hotels
    M("RIVERWALK INN", "HOTELS", "hotel", "SAN ANTONIO", "TX", "400 RIVER WALK", "78205",
      ("Riverwalk Inn", "River Walk Inn & Suites", "RIVERWALK INN & SUITES")),
    M("BUDGET LODGE #312", "HOTELS", "hotel", "LAKE CHARLES", "LA", "2900 PRIEN LAKE RD", "70601",
      ("Budget Lodge", "Budget Lodge Lake Charles", "BUDGET LODGE 312")),
    M("GULF COAST HOTEL", "HOTELS", "hotel", "CORPUS CHRISTI", "TX", "1 SHORELINE BLVD", "78401",
      ("Gulf Coast Hotel", "Gulf Coast Htl", "GULF COAST HOTEL & CONF")),
    # auto rental
    M("MIDWAY AUTO RENTAL", "AUTO RENTAL", "rental", "HOUSTON", "TX", "8000 AIRPORT BLVD", "77061",
      ("Midway Auto Rental", "Midway Rent-A-Car", "MIDWAY AUTO")),
    M("SWIFT CAR RENTAL", "AUTO RENTAL", "rental", "BEAUMONT", "TX", "55 COLLEGE ST", "77701",
      ("Swift Car Rental", "Swift Rent A Car", "SWIFT")),
    # misc
    M("TRUCK PARTS DIRECT", "MISC", "misc", "HOUSTON", "TX", "6100 NAVIGATION BLVD", "77011",
      ("Truck Parts Direct", "Truck Parts Dir.", "TRUCKPARTS DIRECT")),
    M("SAFETY GEAR OUTLET", "MISC", "misc", "BEAUMONT", "TX", "740 CALDER AVE", "77701",
      ("Safety Gear Outlet", "Safety Gear", "SAFETY GEAR OUTLET LLC")),
    M("COASTAL WELDING SU", "MISC", "misc", "CORPUS CHRISTI", "TX", "19 PORT AVE", "78408",
      ("Coastal Welding Supply", "Coastal Welding Sup.", "COASTAL WELDING")),
    M("SUNBELT OFFICE PRO", "MISC", "misc", "ANYTOWN", "TX", "90 COMMERCE DR", "77002",
      ("Sunbelt Office Products", "SunBelt Office", "Sunbelt Office Prod")),
    M("ACME TOOL & DIE", "MISC", "misc", "KATY", "TX", "15 INDUSTRIAL WAY", "77493",
      ("Acme Tool and Die", "ACME Tool & Die Co.", "Acme Tool")),
    M("WIDGETWORKS INC", "MISC", "misc", "KATY", "TX", "2 WIDGET LN", "77494",
      ("WidgetWorks", "Widget Works Inc.", "WIDGETWORKS")),
    M("PARKWELL GARAGE", "MISC", "parking", "HOUSTON", "TX", "1100 MAIN ST", "77002",
      ("Parkwell Garage", "ParkWell", "PARKWELL PARKING")),
)
MILEAGE = M("", "", "mileage", "ANYTOWN", "TX", "100 SAMPLE AVE", "77000",
            ("Personal Vehicle", "Mileage", "Own car"))
# fmt: on
del M

PRODUCTS = {
    "fuel": ("UNLEADED", "UNL PLUS", "D2 LS PREM", "DIESEL", "DEF"),
    "meal": ("FOOD", "OTHER"),
    "hotel": ("LODGING", "OTHER"),
    "rental": ("CAR RENTAL", "OTHER"),
    "misc": ("OTHER", "MISC", "MERCHANDISE", "REPAIRS", "CAR WASH"),
    "parking": ("PARKING", "MISC"),
}

FIRST_NAMES = (
    "JANE",
    "JOHN",
    "MARIA",
    "DAVID",
    "LINDA",
    "ROBERT",
    "PATRICIA",
    "MICHAEL",
    "SUSAN",
    "JAMES",
    "KAREN",
    "WILLIAM",
    "NANCY",
    "THOMAS",
    "LISA",
    "CARLOS",
    "ANGELA",
    "KEVIN",
    "DIANA",
    "BRIAN",
    "TERESA",
    "STEVEN",
    "GLORIA",
    "RAYMOND",
    "HELEN",
    "DENNIS",
    "RUTH",
    "GARY",
    "JOYCE",
    "SOFIA",
)
LAST_NAMES = (
    "DOE",
    "ROE",
    "SMITH",
    "NGUYEN",
    "GARZA",
    "BROUSSARD",
    "HEBERT",
    "TRAN",
    "WALKER",
    "REYES",
    "LANDRY",
    "PRICE",
    "MORENO",
    "FONTENOT",
    "HUGHES",
    "SIMS",
    "BOUDREAUX",
    "ORTIZ",
    "KELLER",
    "PATEL",
    "WADE",
    "GUIDRY",
    "MEYER",
    "SALAZAR",
    "COLE",
    "DUPRE",
    "FRANKS",
    "YATES",
    "ZAMORA",
    "ABBOTT",
)
NICKNAMES = {
    "ROBERT": "Bob",
    "WILLIAM": "Bill",
    "MICHAEL": "Mike",
    "JAMES": "Jim",
    "THOMAS": "Tom",
    "PATRICIA": "Pat",
    "STEVEN": "Steve",
    "RAYMOND": "Ray",
    "DENNIS": "Denny",
}

JOBS = (
    "12345. Sample Plant Expansion",
    "20417. Refinery Turnaround",
    "31002. Pipeline Tie-In",
    "40880. Tank Farm Repairs",
)
PHASES = ("100.10 Insulation", "200.20 Scaffolding", "300.05 Painting", "410.00 Mobilization")
COST_TYPES = ("1", "2", "3", "5", "7")
GL_ACCOUNTS = (
    "6100.200 (Office Supplies)",
    "6200.100 (Travel - Lodging)",
    "6210.300 (Meals)",
    "6300.400 (Vehicle Fuel)",
    "6400.150 (Small Tools)",
)

EXPENSE_TYPES = {
    "fuel": "Fuel",
    "meal": "Meals",
    "hotel": "Lodging",
    "rental": "Car Rental",
    "misc": "General Expense",
    "parking": "Parking",
    "mileage": "Mileage",
}
TITLES = {
    "fuel": ("Fuel - truck {n}", "Fuel for site visit", "Diesel - unit {n}"),
    "meal": ("Lunch with crew", "Dinner - travel", "Crew breakfast"),
    "hotel": ("Hotel - site visit", "Lodging {n} nights", "Hotel - turnaround"),
    "rental": ("Rental car", "Car rental - trip {n}"),
    "misc": ("Shop supplies", "Parts for unit {n}", "Safety supplies", "Office supplies"),
    "parking": ("Parking", "Garage parking"),
    "mileage": ("Mileage - site visits", "Mileage {n} trips"),
}
PURPOSES = (
    "Fuel for site visit",
    "Crew lunch during outage",
    "Travel to job site",
    "Parts for repair",
    "Supplies for the shop",
    "Client meeting",
    "Per job instructions",
)
ACCENTED = {"MARIA": "María", "ANGELA": "Ángela", "SOFIA": "Sofía"}
HOME_STREETS = ("100 SAMPLE AVE", "42 OAK LN", "7 PELICAN CT", "1800 W MAIN ST", "55 RIVER RD")
