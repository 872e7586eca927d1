"""``jaxloss bench``: forward + backward timings of jaxloss, torch (eager) and optax (jit) on identical inputs.

Every case builds one set of float32 numpy inputs and times, in one process:

* jaxloss: ``jax.jit(jax.value_and_grad(loss))``;
* torch 2.13 eager: ``loss.backward()`` (when torch is installed);
* optax: ``jax.jit(jax.value_and_grad(optax_loss(...).mean()))`` (when optax has the loss).

Warm-up calls (and compilation) are excluded; the contenders of a case are timed interleaved (round
robin, the order rotating every round, each timed call preceded by an untimed one) and the median of
at least ``repeats`` rounds is reported (fast cases get enough rounds for a second of timed calls; each row
records its ``rounds``), with the ratio jaxloss / best peer; freed memory is kept for reuse
(:func:`_keep_freed_memory`). The first call (trace + compile + first run of a fresh ``jit``, JAX's caches
cleared before it, the median of five, the JAX contenders taking turns; torch's first eager call) is
reported beside it for every contender: compile time is part of a user's wait. Elementwise losses also
report the ratio to the memory-bandwidth floor: the bytes the forward + backward must move (read inputs, write the gradient)
divided by the measured copy bandwidth. Compile time and XLA's temporary memory
(``compiled.memory_analysis().temp_size_in_bytes``) are reported per case.
Writes ``results.json``, ``results.md`` and ``results.png`` into the output folder.
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np


@dataclasses.dataclass
class Case:
    name: str
    sizes: dict[str, dict[str, int]]
    make: Callable[[np.random.Generator, dict[str, int]], dict[str, np.ndarray]]
    jaxloss: Callable[[dict[str, Any] | None], Callable[..., Any]]
    diff: tuple[str, ...]
    torch: Callable[[dict[str, Any] | None], Callable[..., Any]] | None = None
    optax: Callable[[dict[str, Any] | None], Callable[..., Any]] | None = None
    elementwise_bytes: Callable[[dict[str, int]], int] | None = None
    repeats_scale: float = 1.0


def _f(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _elementwise(name, jl, tf, of=None, make=None, sizes=None):
    sizes = sizes or {"small": {"n": 65_536}, "large": {"n": 4_194_304}}

    def default_make(rng, s):
        return {"x": _f(rng, s["n"]), "y": _f(rng, s["n"])}

    return Case(
        name=name,
        sizes=sizes,
        make=make or default_make,
        jaxloss=jl,
        diff=("x",),
        torch=tf,
        optax=of,
        # read x and y, write dx: 3 float32 arrays of n elements
        elementwise_bytes=lambda s: 3 * 4 * s["n"],
    )


def _cases() -> list[Case]:
    import jax.numpy as jnp
    import optax

    from jaxloss import losses as L

    def tfn(name, **kw):
        def build(_):
            import torch.nn.functional as F

            fn = getattr(F, name)
            return lambda **a: fn(*a.values(), **kw)

        return build

    def probs_make(rng, s):
        return {
            "x": rng.uniform(0.01, 0.99, s["n"]).astype(np.float32),
            "y": rng.uniform(0, 1, s["n"]).astype(np.float32),
        }

    def sign_make(rng, s):
        return {"x": _f(rng, s["n"]), "y": np.sign(_f(rng, s["n"])).astype(np.float32)}

    cls_sizes = {"small": {"b": 256, "c": 512}, "large": {"b": 8192, "c": 4096}}

    def cls_make(rng, s):
        return {"x": _f(rng, s["b"], s["c"]), "y": rng.integers(0, s["c"], s["b"]).astype(np.int64)}

    def cls_weighted_make(rng, s):
        d = cls_make(rng, s)
        d["y"][::7] = -100
        d["w"] = rng.uniform(0.5, 2.0, s["c"]).astype(np.float32)
        return d

    emb_sizes = {"small": {"b": 256, "d": 64}, "large": {"b": 4096, "d": 256}}

    def emb3_make(rng, s):
        return {
            "a": _f(rng, s["b"], s["d"]),
            "p": _f(rng, s["b"], s["d"]),
            "n": _f(rng, s["b"], s["d"]),
        }

    def ctc_make(rng, s):
        t, b, k, n = s["t"], s["b"], s["k"], s["s"]
        logits = _f(rng, t, b, k)
        logp = (logits - np.log(np.exp(logits).sum(-1, keepdims=True))).astype(np.float32)
        return {
            "x": logp,
            "y": rng.integers(1, k, (b, n)).astype(np.int64),
            "il": np.full(b, t, np.int64),
            "tl": np.full(b, n, np.int64),
        }

    def optax_ctc(_):
        def fn(x, y, il, tl):
            logits = jnp.transpose(x, (1, 0, 2))
            lp = jnp.zeros(logits.shape[:2], logits.dtype)
            labp = jnp.zeros(y.shape, logits.dtype)
            return jnp.mean(optax.losses.ctc_loss(logits, lp, y, labp) / tl)

        return fn

    lce_sizes = {
        "small": {"n": 512, "h": 128, "v": 4096},
        "large": {"n": 4096, "h": 512, "v": 32768},
    }

    def lce_make(rng, s):
        return {
            "x": (_f(rng, s["n"], s["h"]) / np.sqrt(s["h"])).astype(np.float32),
            "w": (_f(rng, s["v"], s["h"]) / np.sqrt(s["h"])).astype(np.float32),
            "y": rng.integers(0, s["v"], s["n"]).astype(np.int64),
        }

    def torch_lce(chunked):
        def build(_):
            import torch
            import torch.nn.functional as F

            opts = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=1024) if chunked else None
            return lambda x, w, y: F.linear_cross_entropy(x, w, y, options=opts)

        return build

    return [
        _elementwise(
            "mse_loss",
            lambda _: lambda x, y: L.mse_loss(x, y),
            tfn("mse_loss"),
            lambda _: lambda x, y: jnp.mean(optax.losses.squared_error(x, y)),
        ),
        _elementwise("l1_loss", lambda _: lambda x, y: L.l1_loss(x, y), tfn("l1_loss")),
        _elementwise(
            "huber_loss",
            lambda _: lambda x, y: L.huber_loss(x, y),
            tfn("huber_loss"),
            lambda _: lambda x, y: jnp.mean(optax.losses.huber_loss(x, y)),
        ),
        _elementwise(
            "smooth_l1_loss", lambda _: lambda x, y: L.smooth_l1_loss(x, y), tfn("smooth_l1_loss")
        ),
        _elementwise(
            "binary_cross_entropy_with_logits",
            lambda _: lambda x, y: L.binary_cross_entropy_with_logits(x, y),
            tfn("binary_cross_entropy_with_logits"),
            lambda _: lambda x, y: jnp.mean(optax.losses.sigmoid_binary_cross_entropy(x, y)),
            make=probs_make,
        ),
        _elementwise(
            "binary_cross_entropy",
            lambda _: lambda x, y: L.binary_cross_entropy(x, y),
            tfn("binary_cross_entropy"),
            make=probs_make,
        ),
        _elementwise(
            "soft_margin_loss",
            lambda _: lambda x, y: L.soft_margin_loss(x, y),
            tfn("soft_margin_loss"),
            make=sign_make,
        ),
        _elementwise(
            "poisson_nll_loss",
            lambda _: lambda x, y: L.poisson_nll_loss(x, y),
            tfn("poisson_nll_loss"),
            make=probs_make,
        ),
        _elementwise(
            "kl_div",
            lambda _: lambda x, y: L.kl_div(x, y, reduction="sum"),
            tfn("kl_div", reduction="sum"),
            make=probs_make,
        ),
        Case(
            "cross_entropy",
            cls_sizes,
            cls_make,
            lambda _: lambda x, y: L.cross_entropy(x, y),
            ("x",),
            tfn("cross_entropy"),
            lambda _: lambda x, y: jnp.mean(
                optax.losses.softmax_cross_entropy_with_integer_labels(x, y)
            ),
        ),
        Case(
            "cross_entropy_smoothing",
            cls_sizes,
            cls_make,
            lambda _: lambda x, y: L.cross_entropy(x, y, label_smoothing=0.1),
            ("x",),
            tfn("cross_entropy", label_smoothing=0.1),
            lambda _: lambda x, y: jnp.mean(
                optax.losses.softmax_cross_entropy(
                    x, optax.smooth_labels(jax_one_hot(y, x.shape[-1]), 0.1)
                )
            ),
        ),
        Case(
            "cross_entropy_weight_ignore",
            cls_sizes,
            cls_weighted_make,
            lambda _: lambda x, y, w: L.cross_entropy(x, y, weight=w),
            ("x",),
            lambda _: (
                lambda x, y, w: __import__("torch").nn.functional.cross_entropy(x, y, weight=w)
            ),
        ),
        Case(
            "multi_margin_loss",
            cls_sizes,
            cls_make,
            lambda _: lambda x, y: L.multi_margin_loss(x, y),
            ("x",),
            tfn("multi_margin_loss"),
        ),
        Case(
            "triplet_margin_loss",
            emb_sizes,
            emb3_make,
            lambda _: lambda a, p, n: L.triplet_margin_loss(a, p, n),
            ("a", "p", "n"),
            tfn("triplet_margin_loss"),
            lambda _: lambda a, p, n: jnp.mean(optax.losses.triplet_margin_loss(a, p, n)),
        ),
        Case(
            "cosine_embedding_loss",
            emb_sizes,
            lambda rng, s: {
                "a": _f(rng, s["b"], s["d"]),
                "p": _f(rng, s["b"], s["d"]),
                "y": np.sign(_f(rng, s["b"])).astype(np.float32),
            },
            lambda _: lambda a, p, y: L.cosine_embedding_loss(a, p, y),
            ("a", "p"),
            tfn("cosine_embedding_loss"),
        ),
        Case(
            "ctc_loss",
            {
                "small": {"t": 200, "b": 16, "k": 40, "s": 40},
                "large": {"t": 1000, "b": 16, "k": 40, "s": 200},
            },
            ctc_make,
            lambda _: lambda x, y, il, tl: L.ctc_loss(x, y, il, tl),
            ("x",),
            tfn("ctc_loss"),
            optax_ctc,
        ),
        Case(
            "linear_cross_entropy",
            lce_sizes,
            lce_make,
            lambda _: lambda x, w, y: L.linear_cross_entropy(x, w, y),
            ("x", "w"),
            torch_lce(False),
            repeats_scale=0.3,
        ),
        Case(
            "linear_cross_entropy_chunked",
            lce_sizes,
            lce_make,
            lambda _: lambda x, w, y: L.linear_cross_entropy(
                x, w, y, options=L.LinearCrossEntropyOptions()
            ),
            ("x", "w"),
            torch_lce(True),
            repeats_scale=0.3,
        ),
    ]


def jax_one_hot(y, c):
    import jax

    return jax.nn.one_hot(y, c)


# Fast cases get more rounds than ``--repeats``: enough for this many seconds of timed calls (at most
# _MAX_ROUNDS). A median of 5 calls of a 4 ms loss moved by 30 % between runs (smooth L1: 0.81-1.10x torch).
_MIN_TIMED_SECONDS = 1.0
_MAX_ROUNDS = 200
# First calls (trace + compile + run, from cleared caches) timed per JAX contender, the contenders taking
# turns; the median is reported
_FIRST_CALLS = 5


def _interleaved_medians(
    runs: list[Callable[[], Any]], repeats: int
) -> tuple[list[float], list[float | None], int]:
    """The median time of each of ``runs`` over at least ``repeats`` rounds, the contenders timed round
    robin; the median page faults of each one's timed calls (``None`` where the platform does not count
    them); and the number of rounds, more than ``repeats`` for fast cases (``_MIN_TIMED_SECONDS``).

    Timed one after the other, the contenders of a case met different moments of a shared machine's
    load; in one round they meet the same. The order rotates every round, and each timed call follows an
    untimed call of the same contender: right after a torch call, torch's OpenMP workers still spin and
    an XLA program took up to twice its time.
    """
    for run in runs:  # warm-up (compilation for jit); the second calls estimate a round's time
        run()
    t1 = time.perf_counter()
    for run in runs:
        run()
    per_round = time.perf_counter() - t1
    rounds = max(repeats, 1)
    if per_round > 0:
        rounds = max(rounds, min(_MAX_ROUNDS, int(_MIN_TIMED_SECONDS / per_round) + 1))
    times: list[list[float]] = [[] for _ in runs]
    faults: list[list[int]] = [[] for _ in runs]
    for r in range(rounds):
        for k in range(len(runs)):
            i = (r + k) % len(runs)
            runs[i]()
            f0 = _minor_faults()
            t0 = time.perf_counter()
            runs[i]()
            times[i].append(time.perf_counter() - t0)
            f1 = _minor_faults()
            if f0 is not None and f1 is not None:
                faults[i].append(f1 - f0)
    return (
        [statistics.median(t) for t in times],
        [statistics.median(f) if f else None for f in faults],
        rounds,
    )


def _time_jax(loss: Callable[..., Any], inputs: dict[str, np.ndarray], diff: tuple[str, ...]):
    """``(run, first_call, compile_s, temp_bytes)`` of ``jit(value_and_grad(loss))``.

    ``first_call()`` times one first call, what a user waits for: trace, lower, compile and run of a fresh
    ``jit`` with JAX's caches cleared (see :func:`_interleaved_first_calls`). ``compile_s`` (lower +
    compile) and ``run`` (one steady-state call, for :func:`_interleaved_medians`) come from another,
    separately traced function.
    """
    import jax

    names = list(inputs)
    argnums = tuple(names.index(d) for d in diff)
    arrays = [jax.device_put(inputs[n]) for n in names]
    jax.block_until_ready(arrays)

    def fresh():
        # a new closure each time: nothing of one trace is reused by the other
        return jax.jit(jax.value_and_grad(lambda *a: loss(*a), argnums=argnums))

    def first_call() -> float:
        # every first call starts from empty caches: without this, the contender timed first paid for
        # tracing the jax.numpy helpers both use at these shapes (jnp's functions are jitted and cached),
        # and earlier cases' traces helped whoever used the same helpers
        clear = getattr(jax, "clear_caches", None)
        if clear is not None:
            clear()
        # the allocator's first touch of gradient-sized buffers is not the loss's cost: pay it here, untimed,
        # so that whichever contender runs first is not charged for it
        jax.block_until_ready(jax.jit(lambda *a: [x + 1 for x in a])(*(arrays[i] for i in argnums)))
        first = fresh()
        t0 = time.perf_counter()
        jax.block_until_ready(first(*arrays))
        return time.perf_counter() - t0

    vg = fresh()
    t0 = time.perf_counter()
    compiled = vg.lower(*arrays).compile()
    compile_s = time.perf_counter() - t0
    mem = compiled.memory_analysis()
    temp = getattr(mem, "temp_size_in_bytes", None) if mem is not None else None

    def run():
        jax.block_until_ready(compiled(*arrays))

    return run, first_call, compile_s, temp


def _interleaved_first_calls(first_calls: dict[str, Callable[[], float]]) -> dict[str, float]:
    """The median of ``_FIRST_CALLS`` first calls of each JAX contender, the contenders taking turns.

    Each call starts from cleared caches, so it can be repeated. One sample moved by 10-20 % between runs,
    and three per contender timed one contender after the other left smoothed cross-entropy's row 3 %
    above or below optax's from one run to the next; in turns, with the order rotating, the contenders meet
    the same moments of a shared machine. Without ``jax.clear_caches`` (old jax) a repeated call would reuse
    the first trace: one call each.
    """
    import jax

    calls = _FIRST_CALLS if hasattr(jax, "clear_caches") else 1
    samples: dict[str, list[float]] = {name: [] for name in first_calls}
    names = list(first_calls)
    for r in range(calls):
        for k in range(len(names)):  # the order rotates each round, as in _interleaved_medians
            name = names[(r + k) % len(names)]
            samples[name].append(first_calls[name]())
    return {name: statistics.median(t) for name, t in samples.items()}


def _time_torch(loss: Callable[..., Any], inputs: dict[str, np.ndarray], diff: tuple[str, ...]):
    """``(run, first_call_s)`` of the torch loss's forward and ``backward()`` in eager mode."""
    import torch

    tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}

    def run():
        args = {
            k: (v.detach().requires_grad_(True) if k in diff else v) for k, v in tensors.items()
        }
        out = loss(**args)
        out.backward()

    t0 = time.perf_counter()
    run()
    first_s = time.perf_counter() - t0
    return run, first_s


def copy_bandwidth() -> float:
    """Bytes per second of a plain device copy (read + write) of a 64 MiB float32 array under jit.

    The fastest of 30 runs: the floor is what the memory system can do, not what a loaded machine did once.
    """
    import jax
    import jax.numpy as jnp

    x = jnp.ones(16 * 1024 * 1024, jnp.float32)  # larger than the caches: a memory-bound copy
    copy = jax.jit(lambda a: a * 1.0000001)
    copy(x).block_until_ready()
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        copy(x).block_until_ready()
        times.append(time.perf_counter() - t0)
    return 2 * x.nbytes / min(times)


def _keep_freed_memory() -> None:
    """Keep the memory one call frees for the next (glibc), so that no contender pays page faults per call.

    glibc hands freed memory back to the system once the free space at the top of its heap passes a
    threshold (and maps blocks above a size afresh); the next call faults its buffers in again. Whether
    that happened depended on what ran before: torch's ``huber_loss``, beside optax's large temporaries,
    faulted 0 pages per call where ``smooth_l1_loss`` (the same kernels) faulted 900 to 2,500, and that
    decided the two rows (torch 3.3 ms against 6.1 ms in one quiet run). With both thresholds raised, blocks
    up to 32 MiB come from the heap and stay with the process (torch: 0 faults per call in both rows).

    The number of heaps (arenas) is left as it is: one heap for all threads (``M_ARENA_MAX=1``, tried
    earlier) puts XLA:CPU's worker threads behind one lock: jaxloss's ``huber_loss`` (N=4,194,304) went from
    5 to 12-18 voluntary context switches and from 3.7 to 4.1 ms per call, in every JAX contender, while
    torch (whose workers do not allocate) was unaffected. Blocks of 32 MiB and more are always mapped
    afresh by glibc (optax's ``huber_loss``: 8,193 faults per call), as in any process with the default
    allocator; ``results.json`` records every contender's median faults per timed call
    (``<contender>_faults``). No-op where the C library has no ``mallopt``.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (TypeError: Windows has no CDLL(None))
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest: blocks up to 32 MiB come from the heap
    mallopt(m_trim_threshold, 1 << 30)  # and freed heap memory stays with the process


def _minor_faults() -> int | None:
    """Page faults (minor, without I/O) of this process so far; ``None`` where ``getrusage`` is missing."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _select(cases: list[Case], grep: str | None) -> list[Case]:
    """The cases ``--grep`` names: comma-separated texts; a case's full name selects that case alone, any
    other text every case whose name contains it."""
    texts = [t for t in (grep or "").split(",") if t]
    if not texts:
        return cases
    names = {c.name for c in cases}
    return [c for c in cases if any(c.name == t if t in names else t in c.name for t in texts)]


def run(
    grep: str | None = None, size: str = "both", repeats: int = 10, progress=None
) -> dict[str, Any]:
    """Run the benchmark cases; returns the results dictionary written as JSON."""
    import jax

    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    sizes = ("small", "large") if size == "both" else (size,)
    cases = _select(_cases(), grep)
    _keep_freed_memory()
    bandwidth = copy_bandwidth()
    rows = []
    total = len(cases) * len(sizes)
    for k, (case, sz) in enumerate((c, s) for c in cases for s in sizes):
        if progress:
            progress(k, total, f"{case.name} {sz}")
        params = case.sizes[sz]
        inputs = case.make(np.random.default_rng(0), params)
        reps = max(3, int(repeats * case.repeats_scale))
        row: dict[str, Any] = {"case": case.name, "size": sz, "params": params}
        jl_run, jl_first, row["compile_s"], row["temp_bytes"] = _time_jax(
            case.jaxloss(None), inputs, case.diff
        )
        runs = {"jaxloss": jl_run}
        first_calls = {"jaxloss": jl_first}
        row["optax_s"] = row["optax_first_s"] = None
        if case.optax:
            runs["optax"], first_calls["optax"], _, _ = _time_jax(
                case.optax(None), inputs, case.diff
            )
        for name, first_s in _interleaved_first_calls(first_calls).items():
            row[f"{name}_first_s"] = first_s
        row["torch_s"] = row["torch_first_s"] = None
        if case.torch and have_torch:
            runs["torch"], row["torch_first_s"] = _time_torch(case.torch(None), inputs, case.diff)
        medians, faults, row["rounds"] = _interleaved_medians(list(runs.values()), reps)
        for name, median, fault in zip(runs, medians, faults):
            row[f"{name}_s"] = median
            row[f"{name}_faults"] = fault
        peers = [t for t in (row["optax_s"], row["torch_s"]) if t]
        row["ratio_best_peer"] = row["jaxloss_s"] / min(peers) if peers else None
        if case.elementwise_bytes:
            floor = case.elementwise_bytes(params) / bandwidth
            row["floor_s"] = floor
            row["ratio_floor"] = row["jaxloss_s"] / floor
        rows.append(row)
    if progress:
        progress(total, total, "done")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}",
        "backend": jax.default_backend(),
        "devices": sorted({d.device_kind for d in jax.devices()}),
        "jax": jax.__version__,
        "torch": __import__("torch").__version__ if have_torch else None,
        "optax": __import__("optax").__version__,
        "copy_bandwidth_GBps": bandwidth / 1e9,
        "repeats": repeats,
        "rows": rows,
    }


def _ms(t: float | None) -> str:
    return "-" if t is None else f"{t * 1e3:.2f}"


def _s(t: float | None) -> str:
    return "-" if t is None else f"{t:.3f}"


def to_markdown(res: dict[str, Any]) -> str:
    lines = [
        f"Measured {res['date']} on {res['machine']}, backend {res['backend']} ({', '.join(res['devices'])}); "
        f"jax {res['jax']}, torch {res['torch']}, optax {res['optax']}; copy bandwidth "
        f"{res['copy_bandwidth_GBps']:.1f} GB/s; median of at least {res['repeats']} forward+backward runs "
        "(ms; fast cases: enough runs for a second of timing, `rounds` in results.json).",
        "",
        "",
        "First call (s): the first call of a fresh `jit(value_and_grad(...))` (trace, compile and run, JAX's "
        f"caches cleared before it, median of {_FIRST_CALLS}, the JAX contenders taking turns; torch: its first eager call), what a "
        "user waits for before the steady "
        "state of the columns before it.",
        "",
        "| case | size | jaxloss | torch | optax | jaxloss / best peer | jaxloss / bandwidth floor "
        "| first call (s) jaxloss | torch | optax | compile (s) | XLA temp (MB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in res["rows"]:
        ratio = "-" if r["ratio_best_peer"] is None else f"{r['ratio_best_peer']:.2f}"
        floor = f"{r['ratio_floor']:.2f}" if "ratio_floor" in r else "-"
        temp = "-" if r["temp_bytes"] is None else f"{r['temp_bytes'] / 1e6:.1f}"
        lines.append(
            f"| {r['case']} | {r['size']} | {_ms(r['jaxloss_s'])} | {_ms(r['torch_s'])} | {_ms(r['optax_s'])} | "
            f"{ratio} | {floor} | {_s(r.get('jaxloss_first_s'))} | {_s(r.get('torch_first_s'))} | "
            f"{_s(r.get('optax_first_s'))} | {r['compile_s']:.2f} | {temp} |"
        )
    return "\n".join(lines) + "\n"


def to_png(res: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in res["rows"] if r["ratio_best_peer"] is not None]
    labels = [f"{r['case']} ({r['size']})" for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.5), dpi=100)
    ax.barh(range(len(rows)), [r["ratio_best_peer"] for r in rows], color="tab:blue")
    ax.axvline(1.0, color="k", lw=1, ls="--")
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("jaxloss time / faster of torch and optax (lower is better)")
    ax.set_title(f"forward+backward, {res['backend']}, {res['date']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(args) -> int:
    from jaxloss.cli.progress import Progress

    res = run(args.grep, args.size, args.repeats, progress=Progress("bench", args.progress))
    os.makedirs(args.out, exist_ok=True)
    md = to_markdown(res)
    with open(os.path.join(args.out, "results.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    with open(os.path.join(args.out, "results.md"), "w") as fh:
        fh.write(md)
    try:
        to_png(res, os.path.join(args.out, "results.png"))
    except ImportError:
        print("matplotlib not installed: no PNG written", file=sys.stderr)
    print(md)
    print(f"wrote {args.out}/results.json, results.md, results.png")
    return 0
