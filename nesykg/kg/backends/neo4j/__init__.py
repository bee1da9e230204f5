"""A `GraphStore` on a Neo4j server (5.x), through the official ``neo4j`` driver.

Mapping of RDF onto the property graph (one fixed schema, created on open)::

    (:Resource {iri})                                  every IRI subject / IRI object (unique iri)
    (:Literal {key, value, datatype?, language?})      every literal object (unique key = hash of
                                                       value, datatype and language)
    (s:Resource)-[:REL {predicate, graph}]->(o)        one relationship per (triple, graph)
    (s:Resource)-[:REL {predicate, graph: 'inferred',  one relationship per (triple, run) in the
        run_id, confidence, method, evidence,          ``inferred`` graph: provenance lives
        time}]->(o)                                    on the relationship itself
    (:NamedGraph {iri, relationships, writes})         one per graph written (unique iri); its
                                                       lock serialises that graph's writers,
                                                       which keep its relationship tally

* Every triple uses the single type ``REL`` with the predicate IRI as a property
  (Neo4j 5.26 takes a type as a parameter, ``$(...)``, but cannot then use its type
  index to match it). No user text is ever spliced into Cypher: every value travels
  as a parameter.
* A triple in several graphs has one relationship per graph. A triple several runs
  inferred has one ``inferred`` relationship per run, so ``undo(run)`` deletes exactly
  that run's relationships and the triple stays while another run still holds it.
* No (triple, graph[, run]) is ever stored twice, by the write protocol rather than by
  an index: a write transaction first locks the ``:NamedGraph`` node of every graph it
  changes (in sorted order, so writers cannot deadlock), then creates each relationship
  only if the same one does not exist between the two nodes. The check is an
  ``Expand(Into)`` between two bound nodes, O(min(out-degree(s), in-degree(o))), and
  under the lock no concurrent writer of that graph can add the same relationship
  between the check and the commit. Writing a change set twice (for instance a driver
  retry after a lost commit acknowledgement) therefore changes nothing. An earlier
  mapping kept a hashed ``key`` per relationship under a uniqueness constraint; that
  index cost 40% of the write time, and ``Expand(Into)`` does the same job (see
  docs/neo4j.md for the figures).
* A change set is one transaction, so its size is bounded by the server's transaction
  memory (``dbms.memory.transaction.total.max``; with the test server's 768 MB heap
  200k-300k triples): load larger graphs in several change sets (`nesykg.kg.batches`).

Writes: each `ChangeSet` is one managed write transaction (``session.execute_write``,
retried by the driver on transient errors and lost connections), made of a graph lock
statement and batched ``UNWIND`` statements (`BATCH` rows each): removals, run undo, then
node merges with relationship creates. Reads use managed read transactions.

`read_property_graph` reads a user's own property graph (any labels and relationship
types, e.g. ``(:Person)-[:KNOWS]->(:Person)``) into a `TensorKG`.

The package: `queries` (the Cypher statements and their parameter rows), `driver`
(connection, credentials, error translation), `store` (`Neo4jStore`), `cypher`
(`run_readonly_cypher`, the read-only query tool) and `property_graph`.
The ``neo4j`` driver itself is imported when a store is opened.
"""

from __future__ import annotations

from nesykg.kg.backends.neo4j.cypher import CypherResult, run_readonly_cypher
from nesykg.kg.backends.neo4j.driver import make_driver, neo4j_errors, no_futile_retries, split_credentials
from nesykg.kg.backends.neo4j.property_graph import read_property_graph
from nesykg.kg.backends.neo4j.queries import BATCH, literal_key
from nesykg.kg.backends.neo4j.store import Neo4jStore

__all__ = [
    "BATCH",
    "CypherResult",
    "Neo4jStore",
    "literal_key",
    "make_driver",
    "neo4j_errors",
    "no_futile_retries",
    "read_property_graph",
    "run_readonly_cypher",
    "split_credentials",
]
