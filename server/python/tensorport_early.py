"""Module pairs through the mapping (or equal names) compared while the candidate runs, off the critical path.

Which reference module pairs with which candidate module is known once the reference has run: the
candidate's modules and their state keys are known before its pass (tensorport_pairing.module_pairs). So
the candidate's hook hands each such output, with the reference call it pairs with, to a worker thread
that compares them (tensorport_fastcompare, torch on one thread) while the candidate's pass goes on. A
Paddle pass on the CPU keeps one core busy (Paddle sets OMP_NUM_THREADS=1 where it is unset), so the
comparison takes the other and mostly leaves the critical path; two torch models share the cores, and
then the comparison costs what it would after the pass. The pairing after the pass stays the judge: a
result is used only for a pair it makes, and only if neither tensor changed since (their in-place version
counters), so the report is the one comparing after the pass would give. Everything else (order-paired
calls of modules without state, NaN, infinities, small tensors) is compared after the pass.
"""
import os
import queue
import threading
import time

from tensorport_fastcompare import compare_fast, release_scratch, torch_or_none
from tensorport_pairing import module_pairs, modules_of


def core_left_over(cand, device, world_size):
    """Whether the candidate's pass leaves a CPU core to the worker: a CPU run in one process whose candidate
    computes on fewer threads than this process may use. Where its threads take every core (torch's default),
    a worker steals time slices from its OpenMP team: on two torch ViT-Base models (Paddle imported) the
    overhead over the bare passes was 93-100% wall and 82-90% CPU with it, 76-84% and 39-48% without."""
    if not device.startswith("cpu") or world_size > 1:
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cand.cpu_threads() < cores


def pairs_before_candidate(ref_calls, cand_modules, rules):
    """{reference module: (candidate module, how)} from the reference's calls and every candidate module,
    before the candidate runs (tensorport_pairing.module_pairs)."""
    return module_pairs(modules_of(ref_calls), cand_modules, rules)


def drop_unpairable(ref_calls, paired):
    """Releases the recorded outputs of reference modules with state that no candidate module can pair with
    (only modules without state pair by order): they would be held through the candidate's pass for nothing."""
    for c in ref_calls:
        if c["keys"] and c["name"] and c["name"] not in paired:
            c["tensor"] = c["output"] = None


class EarlyCompare:
    def __init__(self, ref, cand, ref_calls, paired, atol, rtol, as_torch):
        """`paired`: pairs_before_candidate()'s."""
        self.ref, self.cand, self.atol, self.rtol, self.as_torch = ref, cand, atol, rtol, as_torch
        self.partner = {c: r for r, (c, _) in paired.items()}
        self.ref_call = {(c["name"], c["call"]): c for c in ref_calls}
        self.results = {}  # (reference id, candidate id) -> (comparison or None, their versions)
        self.offered = set()
        self.busy_s = 0.0
        self.cpu_s = 0.0
        self.jobs = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._work, name="tensorport-compare", daemon=True)
        self.thread.start()

    def offer(self, call):
        """The candidate's hook: its output `call` goes to the worker when a reference call pairs with it."""
        r_name = self.partner.get(call["name"])
        rc = self.ref_call.get((r_name, call["call"])) if r_name is not None else None
        key = (rc["id"], call["id"]) if rc is not None else None
        if key is None or rc["tensor"] is None or key in self.offered:
            return  # no reference call pairs with it, or the same two tensors are compared already
        try:
            tr, tc = self.as_torch(self.ref, rc["tensor"]), self.as_torch(self.cand, call["tensor"])
            versions = self.ref.version(rc["tensor"]), self.cand.version(call["tensor"])
        except Exception:  # noqa: BLE001 - never in the user's forward pass: compared after it instead
            return
        if tr is not None and tc is not None:
            self.offered.add(key)
            self.jobs.put((key, tr, tc) + versions)

    def _work(self):
        torch = torch_or_none()
        torch.set_num_threads(1)  # this thread's own pool: the other core is the candidate's
        t_cpu = time.thread_time()
        while True:
            job = self.jobs.get()
            if job is None:
                break
            t0 = time.perf_counter()
            key, tr, tc, rv, cv = job
            try:
                self.results[key] = (compare_fast(tr, tc, self.atol, self.rtol, True), rv, cv)
            except Exception:  # noqa: BLE001 - anything odd is compared again after the pass, where it is reported
                pass
            self.busy_s += time.perf_counter() - t0
        release_scratch()
        self.cpu_s = time.thread_time() - t_cpu

    def finish(self):
        """Waits for the comparisons handed over so far."""
        self.jobs.put(None)
        self.thread.join()

    def result(self, r, c):
        """The comparison of reference call r with candidate call c made during the pass, or None."""
        got = self.results.get((r["id"], c["id"]))
        if got is None or got[0] is None:
            return None
        cmp, rv, cv = got
        if rv is None or cv is None or rv != self.ref.version(r["tensor"]) or cv != self.cand.version(c["tensor"]):
            return None  # changed in place after its module returned: compared as it is now, after the pass
        return cmp
