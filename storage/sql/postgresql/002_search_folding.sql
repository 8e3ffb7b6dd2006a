-- Search terms folded by utf8proc (NFKD, case folding, diacritics dropped,
-- letters without a decomposition replaced) and a CJK name typed without
-- a space indexed as one run (core/model text.h): every customer's terms
-- are derived again. Terms are computed in C++ (never by PostgreSQL), so
-- this file only marks them stale; kassa-hq rederives them when it opens
-- the database (PgChainStore::RederiveSearchTerms), a batch of customers a
-- transaction, and removes the mark in the last one. Search still answers
-- in between, from the terms of the earlier folding.
INSERT INTO settings (name, value) VALUES ('search_terms_stale', 'utf8proc folding')
  ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value;
