"""Shapes of a module pair that are not the same shape: a part of a fused output, and a broadcast batch."""


def sliced(t, sl):
    """Part of a fused module's output along its last dimension: [..., start:stop] (torch and Paddle alike)."""
    return t[..., sl["start"]:sl["stop"]]


def broadcastable(a, b):
    """Whether two shapes differ only where one of them has size 1, with the same rank: the framework would
    broadcast one to the other (a batch of one, a shared position table). Different ranks stay a mismatch:
    a missing dimension is more often a port's fault than a broadcast."""
    return len(a) == len(b) and all(x == y or x == 1 or y == 1 for x, y in zip(a, b))


def broadcast_note(ref_shape, cand_shape):
    fmt = lambda s: "[%s]" % ", ".join(map(str, s))  # noqa: E731
    return "compared broadcast: reference %s, candidate %s" % (fmt(ref_shape), fmt(cand_shape))
