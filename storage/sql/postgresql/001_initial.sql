-- kassa headquarters on PostgreSQL, schema version 1.
--
-- Applied by kassa-hq itself (storage/src/pg_chain_store.cc), in one
-- transaction, recorded in kassa_schema. Never edit a file once released:
-- add the next one (002_....sql).
--
-- Personal data is sealed before it reaches the database (docs/PRIVACY.md):
-- records, clienteling values and clienteling changes are AEAD-sealed under
-- each customer's own data key (customer_keys), other secrets under the
-- store key (store_keys), and search terms are keyed (crypto::PrefixHash):
-- the database never holds a name, an email, a phone or an address in
-- clear, and neither do its backups. Ids, times, legal entities, store and
-- terminal ids, and the admin audit trail are plain.

-- The store's own keys ("index", "store"), wrapped under the master key
-- that lives in kassa-hq's key file, never in the database.
CREATE TABLE store_keys (
  name    text PRIMARY KEY,
  wrapped bytea NOT NULL
);

-- Plain settings: whether the store is sealed.
CREATE TABLE settings (
  name  text PRIMARY KEY,
  value text NOT NULL
);

-- Sequences whose order matters: a row each, updated in the transaction
-- that uses the number, so numbers have no gaps and (for the change log)
-- come in commit order: the row stays locked until that commit.
CREATE TABLE counters (
  name  text PRIMARY KEY,
  value bigint NOT NULL CHECK (value >= 0)
);
INSERT INTO counters (name, value) VALUES ('account', 0), ('change', 0), ('book', 0), ('consent', 0),
  ('customers', 0), ('operations', 0);  -- how many customers and operation ids are kept

-- Every customer headquarters ever heard of, with the legal entity it
-- belongs to (kept after an erasure: operations about it are refused).
CREATE TABLE owners (
  customer_id  bytea PRIMARY KEY CHECK (octet_length(customer_id) = 16),
  legal_entity text NOT NULL
);

-- Each customer's data key, wrapped under the master key. An erasure
-- deletes the row: everything sealed under the key is unreadable from then
-- on (docs/PRIVACY.md says what that means for the database's backups).
CREATE TABLE customer_keys (
  n           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  customer_id bytea PRIMARY KEY CHECK (octet_length(customer_id) = 16),
  wrapped     bytea NOT NULL
);

CREATE TABLE customers (
  id          bytea PRIMARY KEY REFERENCES owners (customer_id),
  record      bytea NOT NULL,          -- sealed nanopb Customer
  -- HMAC-SHA-256 of the account number under the index key (NULL while
  -- pending): unique account numbers without keeping them in clear.
  account_tag bytea UNIQUE,
  -- Its newest upsert in the change log: the log is compacted, a
  -- customer's earlier upserts deleted as a newer one is appended.
  change_seq  bigint
);

-- Loyalty cards, unique chain-wide (same tag scheme).
CREATE TABLE loyalty_cards (
  card_tag    bytea PRIMARY KEY,
  customer_id bytea NOT NULL REFERENCES customers (id) ON DELETE CASCADE
);
CREATE INDEX loyalty_cards_customer ON loyalty_cards (customer_id);

-- The search index (search/index.h): one row per term of a customer, the
-- term as stored (keyed), the matched field, and the entry's detail.
CREATE TABLE search_terms (
  kind        smallint NOT NULL,
  term        bytea NOT NULL,
  customer_id bytea NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  field       smallint NOT NULL,
  detail      bytea NOT NULL,
  PRIMARY KEY (kind, term, customer_id)
);
CREATE INDEX search_terms_customer ON search_terms (customer_id);

-- Every operation id ever seen, with its sealed outcome: forever.
CREATE TABLE operations (
  op_id   bytea PRIMARY KEY CHECK (octet_length(op_id) = 16),
  outcome bytea NOT NULL
);

-- The change log distributed to terminals, numbered by counters.change.
-- kind: 1 customer upsert, 2 store configuration, 3 clienteling,
-- 4 customer erased (model::Change::Kind). scope: the legal entity, or the
-- store of a configuration change.
CREATE TABLE changes (
  seq         bigint PRIMARY KEY,
  kind        smallint NOT NULL,
  scope       text NOT NULL,
  customer_id bytea,                   -- upserts, erasures, clienteling about one
  body        bytea                    -- clienteling: the sealed record
);

CREATE TABLE terminals (
  terminal_id        text PRIMARY KEY,
  store_id           text NOT NULL,
  cursor             bigint NOT NULL,
  last_seen_ms       bigint NOT NULL,
  operations_applied bigint NOT NULL,
  rejections         bigint NOT NULL
);

-- Sealed under the store key: the chain configuration ('config'), chain
-- secrets ('secret:NAME').
CREATE TABLE secrets (
  name  text PRIMARY KEY,
  value bytea NOT NULL
);

-- Clienteling of each legal entity (storage/src/clienteling_tables.h says
-- what each record is); values sealed under their customer's key, or the
-- store key for the entity's own (configuration, operators, book headers).
CREATE TABLE clienteling_settings (
  legal_entity text PRIMARY KEY,
  record       bytea NOT NULL
);
CREATE TABLE operators (
  legal_entity text NOT NULL,
  worker_id    text NOT NULL,
  record       bytea NOT NULL,
  PRIMARY KEY (legal_entity, worker_id)
);
CREATE TABLE books (
  legal_entity text NOT NULL,
  owner        text NOT NULL,
  record       bytea NOT NULL,
  PRIMARY KEY (legal_entity, owner)
);
CREATE TABLE book_entries (
  legal_entity text NOT NULL,
  owner        text NOT NULL,
  customer_id  bytea NOT NULL,
  record       bytea NOT NULL,
  PRIMARY KEY (legal_entity, owner, customer_id),
  FOREIGN KEY (legal_entity, owner) REFERENCES books (legal_entity, owner) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX book_entries_customer ON book_entries (customer_id);
CREATE TABLE timeline (
  legal_entity text NOT NULL,
  customer_id  bytea NOT NULL,
  at_ms        bigint NOT NULL,
  entry_id     bytea NOT NULL,
  record       bytea NOT NULL,
  PRIMARY KEY (legal_entity, customer_id, at_ms, entry_id)
);
CREATE TABLE measures (
  legal_entity text NOT NULL,
  customer_id  bytea NOT NULL,
  record       bytea NOT NULL,
  PRIMARY KEY (legal_entity, customer_id)
);
CREATE TABLE consents (
  legal_entity text NOT NULL,
  customer_id  bytea NOT NULL,
  seq          bigint NOT NULL,
  record       bytea NOT NULL,
  PRIMARY KEY (legal_entity, customer_id, seq)
);

-- The admin API's credentials (SHA-256 of the token only), revoked link
-- certificates, wipe orders, the admin audit trail.
CREATE TABLE admin_credentials (
  token_sha256 text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  name         text NOT NULL,
  role         text NOT NULL CHECK (role IN ('admin', 'read-only')),
  created_ms   bigint NOT NULL
);
CREATE TABLE revoked_certificates (
  serial     text PRIMARY KEY,
  revoked_ms bigint NOT NULL
);
CREATE TABLE wipe_orders (
  terminal_id        text PRIMARY KEY,
  ordered_ms         bigint NOT NULL,
  who                text NOT NULL,
  confirmed_ms       bigint NOT NULL,
  certificate_serial text NOT NULL
);
CREATE TABLE admin_audit (
  seq   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at_ms bigint NOT NULL,
  who   text NOT NULL,
  what  text NOT NULL
);
CREATE INDEX admin_audit_at ON admin_audit (at_ms);

-- Erasures, kept forever (ids only).
CREATE TABLE erasures (
  customer_id  bytea PRIMARY KEY REFERENCES owners (customer_id),
  legal_entity text NOT NULL,
  seq          bigint NOT NULL UNIQUE,
  at_ms        bigint NOT NULL,
  who          text NOT NULL
);

-- The data-access audit trail: who opened, listed, printed, exported,
-- created, changed or erased a customer. origin 'T': numbered by the
-- terminal's queue (stored once however often it is sent); 'H': here.
CREATE SEQUENCE access_seq;
CREATE TABLE access_events (
  customer_id bytea NOT NULL CHECK (octet_length(customer_id) = 16),
  at_ms       bigint NOT NULL,
  terminal_id text NOT NULL,
  origin      "char" NOT NULL CHECK (origin IN ('T', 'H')),
  seq         bigint NOT NULL DEFAULT nextval('access_seq'),
  action      smallint NOT NULL,
  actor       text NOT NULL,
  PRIMARY KEY (customer_id, at_ms, terminal_id, origin, seq)
);
CREATE INDEX access_events_at ON access_events (at_ms);
