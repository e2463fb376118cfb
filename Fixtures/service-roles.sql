-- One PostgreSQL role per service, owning its own tables and nothing else. Run as a
-- superuser with psql variables customers_password and products_password. Idempotent.
SET client_min_messages = warning;
SELECT format('CREATE ROLE customers_svc LOGIN PASSWORD %L', :'customers_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'customers_svc') \gexec
SELECT format('CREATE ROLE products_svc LOGIN PASSWORD %L', :'products_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'products_svc') \gexec
ALTER ROLE customers_svc PASSWORD :'customers_password';
ALTER ROLE products_svc PASSWORD :'products_password';

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
ALTER TABLE customers OWNER TO customers_svc;
ALTER TABLE products OWNER TO products_svc;
ALTER TABLE categories OWNER TO products_svc;
ALTER TABLE suppliers OWNER TO products_svc;
-- Each service's migration creates what it owns in the public schema (the products id
-- sequence and row counts; each service's event outbox).
GRANT USAGE, CREATE ON SCHEMA public TO products_svc;
GRANT USAGE, CREATE ON SCHEMA public TO customers_svc;
