-- The public feed's index: the papers visitors see (not hidden), by listing
-- day, with their votes. A month page at a million papers (about 55,000 a
-- month) counts its papers and finds the voted ones for the trending order
-- from this index alone; through papers_listed_on (0001) each of those rows
-- was a lookup in the table, whose rows hold whole abstracts (90-155 ms a
-- page at 1M, docs/BENCHMARKS.md "A million papers"). The number 0012 leaves
-- 0011 to the vector tables.
CREATE INDEX papers_feed ON papers (listed_on, paper_id, upvotes) WHERE hidden_at IS NULL;
