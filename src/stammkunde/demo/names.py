"""Word lists for synthetic German customers (written for this project)."""

FIRST_NAMES = (
    "Anna Ben Clara David Emma Felix Greta Hannah Jonas Julia Karl Lea Lena Leon Lukas "
    "Marie Max Mia Moritz Nina Noah Paul Sophie Tim Tom Laura Sarah Jan Finn Lina Ida "
    "Emil Frieda Henri Jakob Johanna Katharina Lars Maja Niklas Ole Paula Rosa Simon "
    "Theresa Ulrike Volker Wolfgang Yvonne Zoe Sabine Thomas Andrea Michael Petra Stefan "
    "Monika Jürgen Birgit Uwe Sven Heike Dirk Kerstin Frank Silke Ralf Claudia Jörg"
).split()
LAST_NAMES = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
    "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger "
    "Hofmann Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze "
    "Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz "
    "Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler "
    "Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus "
    "Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt"
).split()
STREETS = (
    "Hauptstraße Schulstraße Gartenstraße Bahnhofstraße Dorfstraße Bergstraße "
    "Birkenweg Lindenstraße Kirchstraße Waldstraße Ringstraße Schillerstraße "
    "Goethestraße Jahnstraße Am Markt Mühlenweg Rosenweg Wiesenweg Feldstraße"
).split(" ")
CITIES = (
    ("80331", "München", "BY"),
    ("90402", "Nürnberg", "BY"),
    ("10115", "Berlin", "BE"),
    ("20095", "Hamburg", "HH"),
    ("50667", "Köln", "NW"),
    ("60311", "Frankfurt am Main", "HE"),
    ("70173", "Stuttgart", "BW"),
    ("04109", "Leipzig", "SN"),
    ("01067", "Dresden", "SN"),
    ("30159", "Hannover", "NI"),
    ("28195", "Bremen", "HB"),
    ("44135", "Dortmund", "NW"),
    ("86150", "Augsburg", "BY"),
    ("93047", "Regensburg", "BY"),
    ("97070", "Würzburg", "BY"),
)
COMPANY_WORDS = (
    "Bäckerei Schreinerei Praxis Kanzlei Autohaus Gärtnerei Metzgerei Elektro Sanitär "
    "Kurierdienst Hotel Café Pension Fahrschule"
).split()
# (sku, name, category, price, is_service): a bicycle shop with a workshop.
CATALOGUE = (
    ("FR-CITY-01", 'Citybike Komfort 28"', "Fahrräder", "649.00", False),
    ("FR-TREK-02", 'Trekkingrad Tour 28"', "Fahrräder", "899.00", False),
    ("FR-KIDS-03", 'Kinderrad 20"', "Fahrräder", "299.00", False),
    ("EB-CITY-01", "E-Bike City 500 Wh", "E-Bikes", "2499.00", False),
    ("EB-MTB-02", "E-Mountainbike 625 Wh", "E-Bikes", "3799.00", False),
    ("ZB-HELM-01", "Fahrradhelm Urban", "Zubehör", "59.90", False),
    ("ZB-SCHL-02", "Faltschloss Sicher+", "Zubehör", "79.00", False),
    ("ZB-LAMP-03", "LED-Beleuchtungsset", "Zubehör", "34.90", False),
    ("ZB-TASC-04", "Gepäckträgertasche 20 l", "Zubehör", "49.90", False),
    ("ZB-PUMP-05", "Standpumpe mit Manometer", "Zubehör", "29.90", False),
    ("ZB-KORB-06", "Fahrradkorb vorne", "Zubehör", "24.90", False),
    ("BK-JACK-01", "Regenjacke Radfahrer", "Bekleidung", "89.00", False),
    ("BK-HOSE-02", "Radhose gepolstert", "Bekleidung", "54.90", False),
    ("BK-HAND-03", "Handschuhe Sommer", "Bekleidung", "19.90", False),
    ("ET-SCHL-01", 'Schlauch 28"', "Ersatzteile", "7.90", False),
    ("ET-MANT-02", 'Mantel pannensicher 28"', "Ersatzteile", "32.90", False),
    ("ET-KETT-03", "Kette 9-fach", "Ersatzteile", "24.90", False),
    ("ET-BREM-04", "Bremsbeläge Scheibe", "Ersatzteile", "14.90", False),
    ("ET-AKKU-05", "Ersatzakku 500 Wh", "Ersatzteile", "599.00", False),
    ("WS-INSP-01", "Inspektion Standard", "Werkstatt", "59.00", True),
    ("WS-INSP-02", "Inspektion E-Bike", "Werkstatt", "89.00", True),
    ("WS-PLAT-03", "Reifenpanne beheben", "Werkstatt", "15.00", True),
    ("WS-BREM-04", "Bremsen einstellen", "Werkstatt", "19.00", True),
    ("WS-ABHO-05", "Hol- und Bringservice", "Werkstatt", "25.00", True),
)
