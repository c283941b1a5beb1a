"""btls_py: an independent Python implementation of bTLS 1.1, written from SPEC.md alone.

Layers, each depending only on those above it::

    registry, codec            wire integers, strings and the open registries (SPEC §2, §3)
    messages, frame            message bodies and frames (SPEC §1, §3)
    primitives, keyschedule,   cryptography (via the ``cryptography`` package), SPEC §6, §7
    record, signing, rng
    keyfiles, caches,          key files, registry directory, key cache, first-use store,
    validation                 sessions, validation
    connection, client, server the sans-IO protocol core (SPEC §5, §8–§12)
    vectors, driver, adapter   the IUT adapter of harness/IUT-ADAPTER.md
"""
