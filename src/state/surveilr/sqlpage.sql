-- SQLPage's own table, where SQLPage UI packages keep their pages inside the RSSD. Declared as
-- the public UI scripts declare it, IF NOT EXISTS, so their own CREATE adopts this one.
CREATE TABLE IF NOT EXISTS "sqlpage_files" (
    "path" VARCHAR PRIMARY KEY NOT NULL,
    "contents" TEXT NOT NULL,
    "last_modified" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);
