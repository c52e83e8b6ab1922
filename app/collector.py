"""Garbage collector settings for long-running processes that hold many connections (a CPMS
node, a simulator process).

Each open connection keeps a few hundred container objects alive (~230 per station on a node,
measured); the collector's passes walk them and stop the event loop meanwhile."""

import gc

# Young objects are collected this many allocations apart (Python's default: 700). A request
# or an OCPP message allocates thousands: the default runs a collection several times a turn.
# Not many more, though: a pass over 100,000 young objects paused a node holding 8,000
# stations for ~100 ms (measured), every reply then waiting for it; 10,000 pause it ~5-10 ms.
# The middle generation is collected every tenth young pass, not every fiftieth: with
# 8,000 stations it then walks at most 100,000 survivors instead of 500,000 (a ~95 ms pause
# every minute or two, measured).
GC_THRESHOLDS = (10_000, 10, 100)


def settle_garbage_collector() -> None:
    """Move everything built at start-up (schemas, modules, tables: hundreds of thousands of
    objects) out of the collector's sight. Full collections walked all of them: ~100 ms pauses
    on every tenth dashboard request, measured."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
