-- A small seed data set for the project's Northwind-compatible schema.
INSERT INTO categories VALUES
    (1, 'Beverages', 'Soft drinks, coffees, teas, beers, and ales', NULL),
    (2, 'Condiments', 'Sweet and savory sauces, relishes, spreads, and seasonings', NULL),
    (3, 'Confections', 'Desserts, candies, and sweet breads', NULL);

INSERT INTO suppliers VALUES
    (1, 'Exotic Liquids', 'Charlotte Cooper', 'Purchasing Manager', '49 Gilbert St.', 'London', NULL, 'EC1 4SD', 'UK', '(171) 555-2222', NULL, NULL),
    (2, 'New Orleans Cajun Delights', 'Shelley Burke', 'Order Administrator', 'P.O. Box 78934', 'New Orleans', 'LA', '70117', 'USA', '(100) 555-4822', NULL, '#CAJUN.HTM#'),
    (3, 'Grandma Kelly''s Homestead', 'Regina Murphy', 'Sales Representative', '707 Oxford Rd.', 'Ann Arbor', 'MI', '48104', 'USA', '(313) 555-5735', '(313) 555-3349', NULL);

INSERT INTO products VALUES
    (1, 'Chai', 1, 1, '10 boxes x 20 bags', 18, 39, 0, 10, 1),
    (2, 'Chang', 1, 1, '24 - 12 oz bottles', 19, 17, 40, 25, 1),
    (3, 'Aniseed Syrup', 1, 2, '12 - 550 ml bottles', 10, 13, 70, 25, 0),
    (4, 'Chef Anton''s Cajun Seasoning', 2, 2, '48 - 6 oz jars', 22, 53, 0, 0, 0),
    (5, 'Chef Anton''s Gumbo Mix', 2, 2, '36 boxes', 21.35, 0, 0, 0, 1),
    (6, 'Grandma''s Boysenberry Spread', 3, 2, '12 - 8 oz jars', 25, 120, 0, 25, 0),
    (7, 'Uncle Bob''s Organic Dried Pears', 3, 3, '12 - 1 lb pkgs.', 30, 15, 0, 10, 0),
    (8, 'Northwoods Cranberry Sauce', 3, 2, '12 - 12 oz jars', 40, 6, 0, 0, 0),
    (9, 'Teatime Chocolate Biscuits', 1, 3, '10 boxes x 12 pieces', 9.2, 25, 0, 5, 0),
    (10, 'Sir Rodney''s Scones', 1, 3, '24 pkgs. x 4 pieces', 10, 3, 40, 5, 0);

INSERT INTO customers VALUES
    ('ALFKI', 'Alfreds Futterkiste', 'Maria Anders', 'Sales Representative', 'Obere Str. 57', 'Berlin', NULL, '12209', 'Germany', '030-0074321', '030-0076545'),
    ('ANATR', 'Ana Trujillo Emparedados y helados', 'Ana Trujillo', 'Owner', 'Avda. de la Constitución 2222', 'México D.F.', NULL, '05021', 'Mexico', '(5) 555-4729', '(5) 555-3745'),
    ('ANTON', 'Antonio Moreno Taquería', 'Antonio Moreno', 'Owner', 'Mataderos  2312', 'México D.F.', NULL, '05023', 'Mexico', '(5) 555-3932', NULL),
    ('AROUT', 'Around the Horn', 'Thomas Hardy', 'Sales Representative', '120 Hanover Sq.', 'London', NULL, 'WA1 1DP', 'UK', '(171) 555-7788', '(171) 555-6750'),
    ('BERGS', 'Berglunds snabbköp', 'Christina Berglund', 'Order Administrator', 'Berguvsvägen  8', 'Luleå', NULL, 'S-958 22', 'Sweden', '0921-12 34 65', '0921-12 34 67'),
    ('BLAUS', 'Blauer See Delikatessen', 'Hanna Moos', 'Sales Representative', 'Forsterstr. 57', 'Mannheim', NULL, '68306', 'Germany', '0621-08460', '0621-08924'),
    ('BOLID', 'Bólido Comidas preparadas', 'Martín Sommer', 'Owner', 'C/ Araquil, 67', 'Madrid', NULL, '28023', 'Spain', '(91) 555 22 82', '(91) 555 91 99'),
    ('WOLZA', 'Wolski  Zajazd', 'Zbyszek Piestrzeniewicz', 'Owner', 'ul. Filtrowa 68', 'Warszawa', NULL, '01-012', 'Poland', '(26) 642-7012', '(26) 642-7555');

INSERT INTO orders (order_id, customer_id, employee_id, order_date, ship_via, freight, ship_name, ship_country) VALUES
    (10248, 'ALFKI', 5, '1996-07-04', 3, 32.38, 'Alfreds Futterkiste', 'Germany'),
    (10249, 'ANATR', 6, '1996-07-05', 1, 11.61, 'Ana Trujillo', 'Mexico'),
    (10250, 'ALFKI', 4, '1996-07-08', 2, 65.83, 'Alfreds Futterkiste', 'Germany');

INSERT INTO order_details VALUES
    (10248, 1, 14, 12, 0),
    (10248, 3, 9.8, 10, 0),
    (10249, 4, 34.8, 5, 0),
    (10250, 1, 7.7, 10, 0.15);
