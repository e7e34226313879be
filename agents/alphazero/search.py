"""Compiled, batched tree search for Go: many trees held in arrays, searched together by numba kernels.

`agents.alphazero.mcts` is the readable reference: a Python `Node` per position, each holding a `GoGame` copy. This
module runs the same PUCT search (and, as an option, Gumbel AlphaZero's root, below) with no Python object per node,
so that one CPU core keeps up with a network that evaluates hundreds of leaves per call. `BatchedSearch` holds
``trees`` independent trees; each *step* descends in every tree that still has simulations to run (up to
``leaves_per_tree`` descents per tree, with virtual loss when more than one), hands all the new leaves to the
evaluator in one call, then expands them and backs their values up. With one leaf per tree and no virtual loss it
visits exactly what `mcts.run_simulations` visits; with ``leaves_per_tree = B`` on one tree, exactly what
`mcts.search_with_virtual_loss(batch=B)` visits (tests/agents/test_alphazero_search.py).

Arrays (``G`` trees, ``M`` node slots and ``E`` edge slots per tree, ``A = N*N + 1`` actions):

| array        | shape / dtype          | content                                                                   |
|--------------|------------------------|---------------------------------------------------------------------------|
| nodes        | (G, M, 6) int32        | PARENT node (-1 at the root), EDGE from the parent, FIRST edge, COUNT of   |
|              |                        | edges (-1: not expanded yet), VISITS (the node's total, virtual losses     |
|              |                        | included), TERMINAL (1: the game is over here)                            |
| node_f       | (G, M, 2) float64      | VALUE: terminal: the result for the player to move, else the network's    |
|              |                        | value; WSUM: the sum of the node's edge value sums W                      |
| edges_i      | (G, E, 3) int32        | ACTION, CHILD node (-1: not created), edge visit count N                  |
| edges_f      | (G, E, 2) float32      | value sum W (for the player choosing the edge), prior P                   |
| used         | (G, 2) int32           | node and edge slots in use                                                |
| root_*       | per tree               | the root position: the engine's packed state, superko table, stone       |
|              |                        | counts, hash/stones meta, and (history slot, passes, move, to_play)      |

A node's edges are one contiguous block, one edge per legal move in increasing action order (so that ties break
towards the lowest action, as ``np.argmax`` does in the reference). Node 0 is always the root; a node's children are
always created after it, so they have larger indices, which lets tree reuse compact the kept subtree in place.

Positions are **not stored per node**. A descent walks the arrays only; when it reaches a leaf that needs the
network, the leaf's position is rebuilt by replaying the moves from the root with the engine's own kernels
(`envs.go.game._apply`: play, capture, Zobrist hash, superko table) on a copy of the root's engine state (11 kB at
9x9: board, group lists, liberty counts, history ring). Each tree keeps the last position it replayed, so a leaf
below it (a descent one step deeper, or further down the same line, as PUCT's first-play urgency makes common) costs
only the moves below it. The positions a replay creates are added to the root's own superko table (its legality
needs them) and taken out again, newest first, when the replay starts over and at the end of each search, which
leaves the open-addressing table exactly as it was. Storing a state per node would cost 11 kB per node and a copy per
expansion anyway, and memory would grow with the tree; a move costs about a tenth of a microsecond. The replayed
state then gives the leaf's legal moves (`_legal_mask`: occupied, suicide, positional superko), its feature planes
(`envs.go.features._fill_planes`) and its board, all written into per-leaf output buffers, so that the evaluator
sees one (B, C, N, N) array.

Gumbel AlphaZero (Danihelka, Guez, Schrittwieser, Silver: "Policy improvement by planning with Gumbel", ICLR 2022),
``root="gumbel"``: at the root, Gumbel noise g(a) is added to the prior logits and the top ``m`` actions by
g + logits are considered; sequential halving spreads the simulations over them (the visit schedule of
`halving_schedule`), keeping the better half by g + logits + sigma(q) after each phase; the move played is the last
survivor, and the policy target is the improved policy softmax(logits + sigma(completed Q)), where unvisited actions'
Q is completed by the mixed value v_mix. Below the root the paper's deterministic selection picks
argmax(pi'(a) - N(a) / (1 + sum N)). sigma(q) = (c_visit + max N) * c_scale * q with q min-max rescaled to [0, 1]
(c_visit 50, c_scale 0.1: the defaults of DeepMind's mctx). Gumbel searches start from a fresh root each move
(sequential halving counts its budget from zero and the completed-Q target describes this search only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from numba import njit

from deep_arena.agents.alphazero.inference import InferenceOptions, autocast_dtype
from deep_arena.envs.go.features import _fill_planes, num_planes
from deep_arena.envs.go.game import (BOARD, HISTORY_DEPTH, LEGAL, STATE_ROWS, GoGame, _apply, _area, _legal_mask,
                                     _legality_code, _tables)

# Node fields (last axis of ``nodes``), edge fields (``edges_i`` / ``edges_f``), root info fields.
PARENT, EDGE, FIRST, COUNT, VISITS, TERMINAL = range(6)
ACTION, CHILD, EDGE_N = range(3)
EDGE_W, EDGE_P = range(2)
VALUE, WSUM = range(2)
HIST_POS, PASSES, MOVES, TO_PLAY = range(4)
C_NODE, C_DEPTH, C_COLOUR, C_HIST, C_PLACED = range(5)  # the replay cache's info fields
# Root selection rules.
PUCT, GUMBEL = 0, 1
ROOTS = {"puct": PUCT, "gumbel": GUMBEL}


def table_capacity(max_moves: int) -> int:
    """Size of a game's superko table (as `GoGame` allocates it)."""
    return 1 << int(np.ceil(np.log2(4 * (max_moves + 2))))


def halving_schedule(considered: int, simulations: int) -> np.ndarray:
    """Sequential halving as a visit schedule: entry k is the visit count that root simulation k tops up.

    Phase after phase (log2(m) phases for m considered actions), every remaining action gets
    ``max(1, simulations // (log2(m) * remaining))`` more visits, then the better half stays (never fewer than 2).
    Simulation k visits the best-scoring considered action whose visit count equals entry k, so the halving follows
    from the scores without any bookkeeping of phases. The schedule is ``simulations`` long."""
    if considered <= 1:
        return np.arange(simulations, dtype=np.int32)
    phases = int(math.ceil(math.log2(considered)))
    out: list[int] = []
    visits = 0
    remaining = considered
    while len(out) < simulations:
        extra = max(1, simulations // (phases * remaining))
        for _ in range(extra):
            out.extend([visits] * remaining)
            visits += 1
        remaining = max(2, remaining // 2)
    return np.array(out[:simulations], dtype=np.int32)


# ---------------------------------------------------------------------------------------------------------------
# Compiled kernels. ``tree`` is the tuple (nodes, node_f, edges_i, edges_f, used), ``roots`` the tuple
# (root_state, root_table, root_counts, root_meta, root_info) and ``cache`` the last position replayed in each tree
# (state, meta, info, hashes, stones, path: see `BatchedSearch.__init__`).


@njit(cache=True)
def _puct_edge(tree, g, node, c_puct, fpu_reduction):
    """The edge PUCT picks at ``node``; the arithmetic is the reference's, in float32, operation for operation (an
    unvisited edge skips the division by 1 + 0, which is exact)."""
    nodes, node_f, edges_i, edges_f, _ = tree
    first = nodes[g, node, FIRST]
    count = nodes[g, node, COUNT]
    total = nodes[g, node, VISITS]
    if total > 0:
        fpu = np.float32(np.float32(node_f[g, node, WSUM]) / np.float32(total)) - np.float32(fpu_reduction)
    else:
        fpu = np.float32(0.0 - fpu_reduction)
    c = np.float32(c_puct)
    root_n = np.float32(math.sqrt(total + 1))
    best = -1
    best_score = np.float32(-np.inf)
    for e in range(first, first + count):
        visits = edges_i[g, e, EDGE_N]
        if visits > 0:
            n = np.float32(visits)
            score = edges_f[g, e, EDGE_W] / n + c * edges_f[g, e, EDGE_P] * root_n / (np.float32(1.0) + n)
        else:
            score = fpu + c * edges_f[g, e, EDGE_P] * root_n
        if best < 0 or score > best_score:
            best = e
            best_score = score
    return best


@njit(cache=True)
def _sigma_q(tree, g, node, c_visit, c_scale, out):
    """sigma(completed Q) of each edge of ``node`` into ``out[:count]`` (module docstring; paper's appendix D)."""
    nodes, node_f, edges_i, edges_f, _ = tree
    first = nodes[g, node, FIRST]
    count = nodes[g, node, COUNT]
    sum_n = 0
    max_n = 0
    sum_p = 0.0
    sum_pq = 0.0
    for k in range(count):
        e = first + k
        n = edges_i[g, e, EDGE_N]
        if n > 0:
            q = edges_f[g, e, EDGE_W] / n
            sum_n += n
            max_n = max(max_n, n)
            sum_p += edges_f[g, e, EDGE_P]
            sum_pq += edges_f[g, e, EDGE_P] * q
    v_mix = float(node_f[g, node, VALUE])
    if sum_n > 0 and sum_p > 0.0:
        v_mix = (v_mix + sum_n * sum_pq / sum_p) / (1.0 + sum_n)
    lo = np.inf
    hi = -np.inf
    for k in range(count):
        e = first + k
        n = edges_i[g, e, EDGE_N]
        q = edges_f[g, e, EDGE_W] / n if n > 0 else v_mix
        out[k] = q
        lo = min(lo, q)
        hi = max(hi, q)
    scale = (c_visit + max_n) * c_scale / max(hi - lo, 1e-8)
    for k in range(count):
        out[k] = (out[k] - lo) * scale


@njit(cache=True, inline="always")
def _log_prior(p):
    return math.log(max(p, 1e-30))


@njit(cache=True)
def _gumbel_interior_edge(tree, g, node, c_visit, c_scale, work):
    """The paper's non-root selection: argmax of improved policy minus visit share."""
    nodes, _, edges_i, edges_f, _ = tree
    first = nodes[g, node, FIRST]
    count = nodes[g, node, COUNT]
    _sigma_q(tree, g, node, c_visit, c_scale, work)
    top = -np.inf
    for k in range(count):
        work[k] += _log_prior(edges_f[g, first + k, EDGE_P])
        top = max(top, work[k])
    z = 0.0
    for k in range(count):
        work[k] = math.exp(work[k] - top)
        z += work[k]
    denominator = 1.0 + nodes[g, node, VISITS]
    best = -1
    best_score = -np.inf
    for k in range(count):
        score = work[k] / z - edges_i[g, first + k, EDGE_N] / denominator
        if best < 0 or score > best_score:
            best = first + k
            best_score = score
    return best


@njit(cache=True)
def _gumbel_root_edge(tree, g, gumbel, schedule, sim_index, c_visit, c_scale, work):
    """Sequential halving at the root: the best considered action (g + logits + sigma(q)) among those whose visit
    count is this simulation's entry of the schedule (the least visited ones if none is)."""
    nodes, _, edges_i, edges_f, _ = tree
    first = nodes[g, 0, FIRST]
    count = nodes[g, 0, COUNT]
    _sigma_q(tree, g, 0, c_visit, c_scale, work)
    k = sim_index[g]
    target = schedule[g, k] if k < schedule.shape[1] else -1
    sim_index[g] = k + 1
    found = False
    least = 1 << 30
    for j in range(count):
        e = first + j
        if gumbel[g, edges_i[g, e, ACTION]] > -np.inf:
            n = edges_i[g, e, EDGE_N]
            found = found or n == target
            least = min(least, n)
    if not found:
        target = least
    best = -1
    best_score = -np.inf
    for j in range(count):
        e = first + j
        a = edges_i[g, e, ACTION]
        if gumbel[g, a] > -np.inf and edges_i[g, e, EDGE_N] == target:
            score = gumbel[g, a] + _log_prior(edges_f[g, e, EDGE_P]) + work[j]
            if best < 0 or score > best_score:
                best = e
                best_score = score
    return best


@njit(cache=True)
def _replay(tree, roots, cache, const, g, node):
    """Bring tree ``g``'s cached position to ``node`` and return (colour to play, history slot of the current
    board). When the cached node is an ancestor of ``node`` (the usual case: a descent goes one step deeper than the
    last one, or further down the same line) only the moves below it are played; otherwise the cached positions are
    taken out of the superko table and the root's state is copied and the moves from the root replayed. The replayed
    positions are added to the root's own superko table and stone counts (the leaf's legality needs them) until
    `_flush` takes them out again."""
    nodes, _, edges_i, _, _ = tree
    root_state, root_table, root_counts, root_meta, root_info = roots
    c_state, c_meta, c_info, c_hashes, c_stones, path = cache
    depth = 0
    n = node
    while nodes[g, n, PARENT] >= 0:
        path[depth] = edges_i[g, nodes[g, n, EDGE], ACTION]
        depth += 1
        n = nodes[g, n, PARENT]
    start = -1  # moves of the path (from the root) the cached state already has
    cached, cached_depth = c_info[g, C_NODE], c_info[g, C_DEPTH]
    if cached >= 0 and cached_depth <= depth:
        n = node
        for _ in range(depth - cached_depth):
            n = nodes[g, n, PARENT]
        if n == cached:
            start = cached_depth
    state = c_state[g]
    if start < 0:
        _flush_tree(roots, cache, g)
        state[:, :] = root_state[g]
        c_meta[g, 0] = root_meta[g, 0]
        c_meta[g, 1] = root_meta[g, 1]
        c_info[g, C_COLOUR] = root_info[g, TO_PLAY]
        c_info[g, C_HIST] = root_info[g, HIST_POS]
        start = 0
    colour = c_info[g, C_COLOUR]
    hist = c_info[g, C_HIST]
    placed = c_info[g, C_PLACED]
    meta = c_meta[g]
    table = root_table[g]
    counts = root_counts[g]
    pass_action = state.shape[1]
    for i in range(depth - start - 1, -1, -1):
        hist = (hist + 1) % HISTORY_DEPTH
        _apply(path[i], colour, hist, state, const, table, counts, meta)
        if path[i] != pass_action:  # a stone: a new position (superko), its hash was added to the table
            c_hashes[g, placed] = meta[0]
            c_stones[g, placed] = meta[1]
            placed += 1
        colour = -colour
    c_info[g, C_NODE] = node
    c_info[g, C_DEPTH] = depth
    c_info[g, C_COLOUR] = colour
    c_info[g, C_HIST] = hist
    c_info[g, C_PLACED] = placed
    return colour, hist


@njit(cache=True)
def _flush_tree(roots, cache, g):
    """Take tree ``g``'s cached positions out of its superko table and stone counts again. They were inserted last,
    so removing them newest first leaves the open-addressing table exactly as it was."""
    _, root_table, root_counts, _, _ = roots
    _, _, c_info, c_hashes, c_stones, _ = cache
    table = root_table[g]
    mask = table.shape[0] - 1
    for k in range(c_info[g, C_PLACED] - 1, -1, -1):
        h = c_hashes[g, k]
        i = h & mask
        while table[i] != h:
            i = (i + 1) & mask
        table[i] = 0
        root_counts[g, c_stones[g, k]] -= 1
    c_info[g, C_PLACED] = 0
    c_info[g, C_NODE] = -1
    c_info[g, C_DEPTH] = 0


@njit(cache=True)
def _flush(roots, cache):
    for g in range(cache[2].shape[0]):
        _flush_tree(roots, cache, g)


@njit(cache=True)
def _terminal_value(state, const, colour, komi):
    """Tromp-Taylor result for ``colour`` (the player to move): 1 win, -1 loss, 0 draw."""
    black, white = _area(state[BOARD], const)
    score = black - white - komi
    winner = 1 if score > 0 else (-1 if score < 0 else 0)
    return float(winner * colour)


@njit(cache=True)
def _descend(tree, roots, cache, const, g, mode, c_puct, fpu_reduction, c_visit, c_scale, komi, max_moves,
             gumbel, schedule, sim_index, work):
    """Follow the selection rule from the root to a node that is not expanded yet or is terminal; a child is created
    when first reached (a terminal one gets its result at once). Returns (node, move number there)."""
    nodes, node_f, edges_i, _, used = tree
    root_info = roots[4]
    pass_action = const.shape[1]
    node = 0
    moves = root_info[g, MOVES]
    passes = root_info[g, PASSES]
    while nodes[g, node, COUNT] >= 0 and nodes[g, node, TERMINAL] == 0:
        if mode == PUCT:
            e = _puct_edge(tree, g, node, c_puct, fpu_reduction)
        elif node == 0:
            e = _gumbel_root_edge(tree, g, gumbel, schedule, sim_index, c_visit, c_scale, work)
        else:
            e = _gumbel_interior_edge(tree, g, node, c_visit, c_scale, work)
        action = edges_i[g, e, ACTION]
        moves += 1
        passes = passes + 1 if action == pass_action else 0
        child = edges_i[g, e, CHILD]
        if child < 0:
            child = used[g, 0]
            used[g, 0] += 1
            edges_i[g, e, CHILD] = child
            nodes[g, child, PARENT] = node
            nodes[g, child, EDGE] = e
            nodes[g, child, FIRST] = -1
            nodes[g, child, COUNT] = -1
            nodes[g, child, VISITS] = 0
            nodes[g, child, TERMINAL] = 0
            node_f[g, child, VALUE] = 0.0
            node_f[g, child, WSUM] = 0.0
            if passes >= 2 or moves >= max_moves:
                colour, _ = _replay(tree, roots, cache, const, g, child)
                nodes[g, child, TERMINAL] = 1
                node_f[g, child, VALUE] = _terminal_value(cache[0][g], const, colour, komi)
        node = child
    return node, moves


@njit(cache=True)
def _virtual_loss(tree, g, node, sign):
    """Add (sign +1) or remove (-1) one visit counted as a loss for the player choosing each edge above ``node``."""
    nodes, node_f, edges_i, edges_f, _ = tree
    while nodes[g, node, PARENT] >= 0:
        e = nodes[g, node, EDGE]
        parent = nodes[g, node, PARENT]
        edges_i[g, e, EDGE_N] += sign
        edges_f[g, e, EDGE_W] = edges_f[g, e, EDGE_W] - np.float32(sign)
        node_f[g, parent, WSUM] -= sign
        nodes[g, parent, VISITS] += sign
        node = parent


@njit(cache=True)
def _backup_path(tree, g, node, leaf_value):
    """``leaf_value`` is for the player to move at ``node``; each edge above stores it for the player choosing."""
    nodes, node_f, edges_i, edges_f, _ = tree
    value = leaf_value
    while nodes[g, node, PARENT] >= 0:
        value = -value
        e = nodes[g, node, EDGE]
        parent = nodes[g, node, PARENT]
        edges_i[g, e, EDGE_N] += 1
        edges_f[g, e, EDGE_W] = edges_f[g, e, EDGE_W] + np.float32(value)
        node_f[g, parent, WSUM] += np.float32(value)
        nodes[g, parent, VISITS] += 1
        node = parent


@njit(cache=True)
def _select(tree, roots, cache, const, params, iparams, gumbel, schedule, sim_index, remaining, only_roots,
            leaf_tree, leaf_node, planes, legal, boards, to_play, work):
    """One step of descents in every tree (see `BatchedSearch.search`). Terminal leaves are backed up at once; the
    others are written to the leaf buffers (position rebuilt: legal moves, feature planes, board, player to move)
    and, with virtual loss, marked along their path. Returns the number of leaves written."""
    nodes, node_f, _, _, _ = tree
    c_puct, fpu_reduction, c_visit, c_scale, komi = params[0], params[1], params[2], params[3], params[4]
    mode, history_length, max_moves, leaves_per_tree, use_virtual_loss = (iparams[0], iparams[1], iparams[2],
                                                                           iparams[3], iparams[4])
    b = 0
    for g in range(nodes.shape[0]):
        if only_roots:
            if nodes[g, 0, COUNT] >= 0 or nodes[g, 0, TERMINAL] != 0:
                continue
            descents = 1
        else:
            descents = min(leaves_per_tree, remaining[g])
        first_leaf = b
        for _ in range(descents):
            before = sim_index[g]
            node, moves = _descend(tree, roots, cache, const, g, mode, c_puct, fpu_reduction, c_visit, c_scale,
                                   komi, max_moves, gumbel, schedule, sim_index, work)
            if nodes[g, node, TERMINAL] != 0:
                _backup_path(tree, g, node, node_f[g, node, VALUE])
                remaining[g] -= 1
                continue
            duplicate = False
            for k in range(first_leaf, b):
                duplicate = duplicate or leaf_node[k] == node
            if duplicate:  # the virtual losses could not steer away: evaluate what this tree has
                sim_index[g] = before
                break
            colour, hist = _replay(tree, roots, cache, const, g, node)
            state = cache[0][g]
            _legal_mask(colour, state, const, roots[1][g], roots[2][g], cache[1][g], legal[b])
            _fill_planes(state, hist, min(history_length, moves + 1), colour, legal[b], history_length, planes[b])
            for p in range(state.shape[1]):
                boards[b, p] = state[BOARD, p]
            to_play[b] = colour
            if use_virtual_loss:
                _virtual_loss(tree, g, node, 1)
            leaf_tree[b] = g
            leaf_node[b] = node
            b += 1
            if not only_roots:
                remaining[g] -= 1
    return b


@njit(cache=True)
def _expand_and_backup(tree, count, leaf_tree, leaf_node, legal, priors, values, use_virtual_loss):
    """For each evaluated leaf in order: remove its virtual loss, give it one edge per legal move, back up its
    value (as the reference does)."""
    nodes, node_f, edges_i, edges_f, used = tree
    actions = legal.shape[1]
    for b in range(count):
        g = leaf_tree[b]
        node = leaf_node[b]
        if use_virtual_loss:
            _virtual_loss(tree, g, node, -1)
        if nodes[g, node, COUNT] < 0:
            first = used[g, 1]
            k = 0
            for a in range(actions):
                if legal[b, a]:
                    e = first + k
                    edges_i[g, e, ACTION] = a
                    edges_i[g, e, CHILD] = -1
                    edges_i[g, e, EDGE_N] = 0
                    edges_f[g, e, EDGE_W] = 0.0
                    edges_f[g, e, EDGE_P] = priors[b, a]
                    k += 1
            nodes[g, node, FIRST] = first
            nodes[g, node, COUNT] = k
            used[g, 1] = first + k
            node_f[g, node, VALUE] = values[b]
        _backup_path(tree, g, node, float(values[b]))


@njit(cache=True)
def _reroot(tree, g, new_root):
    """Keep only the subtree under ``new_root``, compacted to the front of tree ``g`` with ``new_root`` as node 0.
    Children have larger indices than their parents, so one increasing scan finds the kept nodes and moves each to
    a slot it has already passed; edge blocks move down in order of their old offsets."""
    nodes, node_f, edges_i, edges_f, used = tree
    n_used = used[g, 0]
    new_index = np.full(n_used, -1, dtype=np.int32)
    kept = 0
    for i in range(new_root, n_used):
        if i == new_root or (nodes[g, i, PARENT] >= 0 and new_index[nodes[g, i, PARENT]] >= 0):
            new_index[i] = kept
            kept += 1
    # Edge blocks of kept, expanded nodes, by old offset.
    blocks = np.empty(kept, dtype=np.int64)
    owners = np.empty(kept, dtype=np.int64)
    nb = 0
    for i in range(new_root, n_used):
        if new_index[i] >= 0 and nodes[g, i, COUNT] >= 0:
            blocks[nb] = nodes[g, i, FIRST]
            owners[nb] = i
            nb += 1
    order = np.argsort(blocks[:nb], kind="mergesort")
    edge_top = 0
    for j in range(nb):
        i = owners[order[j]]
        first = nodes[g, i, FIRST]
        count = nodes[g, i, COUNT]
        for k in range(count):
            for f in range(3):
                edges_i[g, edge_top + k, f] = edges_i[g, first + k, f]
            for f in range(2):
                edges_f[g, edge_top + k, f] = edges_f[g, first + k, f]
            child = edges_i[g, edge_top + k, CHILD]
            if child >= 0:  # (nodes have not moved yet: the child is still at its old index)
                nodes[g, child, EDGE] = edge_top + k
                edges_i[g, edge_top + k, CHILD] = new_index[child]
        nodes[g, i, FIRST] = edge_top
        edge_top += count
    for i in range(new_root, n_used):
        j = new_index[i]
        if j < 0:
            continue
        for f in range(6):
            nodes[g, j, f] = nodes[g, i, f]
        node_f[g, j, VALUE] = node_f[g, i, VALUE]
        node_f[g, j, WSUM] = node_f[g, i, WSUM]
        if j == 0:
            nodes[g, 0, PARENT] = -1
            nodes[g, 0, EDGE] = -1
        else:
            nodes[g, j, PARENT] = new_index[nodes[g, j, PARENT]]
    used[g, 0] = kept
    used[g, 1] = edge_top


@njit(cache=True)
def _root_scores(tree, g, gumbel, c_visit, c_scale, work, improved, scores):
    """Per root edge: the improved policy softmax(logits + sigma(q)) and the halving score g + logits + sigma(q)
    (-inf for actions not considered)."""
    nodes, _, edges_i, edges_f, _ = tree
    first = nodes[g, 0, FIRST]
    count = nodes[g, 0, COUNT]
    _sigma_q(tree, g, 0, c_visit, c_scale, work)
    top = -np.inf
    for k in range(count):
        e = first + k
        logit = _log_prior(edges_f[g, e, EDGE_P]) + work[k]
        a = edges_i[g, e, ACTION]
        scores[k] = gumbel[g, a] + logit if gumbel[g, a] > -np.inf else -np.inf
        improved[k] = logit
        top = max(top, logit)
    z = 0.0
    for k in range(count):
        improved[k] = math.exp(improved[k] - top)
        z += improved[k]
    for k in range(count):
        improved[k] /= z


# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Leaves:
    """The positions a search step asks the evaluator about (views into the search's buffers, valid until the next
    step): ``planes`` float32 (B, C, N, N) as `envs.go.features.encode` makes them, ``legal`` bool (B, N*N+1),
    ``boards`` int8 (B, N*N), ``to_play`` int8 (B,)."""

    planes: np.ndarray
    legal: np.ndarray
    boards: np.ndarray
    to_play: np.ndarray

    def __len__(self) -> int:
        return len(self.legal)


# evaluate(leaves) -> (priors (B, A) over legal moves, values (B,) for the player to move)
LeafEvaluator = Callable[[Leaves], tuple[np.ndarray, np.ndarray]]


def uniform_evaluator(leaves: Leaves) -> tuple[np.ndarray, np.ndarray]:
    """The trivial evaluator: uniform priors over legal moves, value 0."""
    legal = leaves.legal.astype(np.float32)
    return legal / legal.sum(axis=1, keepdims=True), np.zeros(len(legal), dtype=np.float32)


class NetworkLeafEvaluator:
    """A policy-value network on `Leaves`: one forward pass per step, illegal moves masked out of the priors.
    ``calls`` and ``positions`` count the network calls and the positions evaluated.

    ``options`` (`inference.InferenceOptions`): autocast precision (default: bfloat16 on CUDA when
    ``mixed_precision``, float32 on the CPU), channels-last layout (converts ``model`` in place), ``torch.compile``."""

    def __init__(self, model: torch.nn.Module, device: torch.device, mixed_precision: bool = True,
                 options: InferenceOptions | None = None):
        options = options or InferenceOptions()
        self.model = model
        self.device = device
        self.options = options
        self.dtype = autocast_dtype(options.precision, device, mixed_precision)
        self.autocast = self.dtype is not None
        self.mixed_precision = mixed_precision
        if options.channels_last:
            model.to(memory_format=torch.channels_last)
        self.forward = torch.compile(model, dynamic=True) if options.compile else model
        self.calls = 0
        self.positions = 0

    @classmethod
    def like(cls, evaluator, options: InferenceOptions | None = None) -> "NetworkLeafEvaluator":
        """The leaf version of an `mcts.NetworkEvaluator` (same model, device and precision)."""
        return cls(evaluator.model, evaluator.device, evaluator.autocast, options)

    @torch.no_grad()
    def raw(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network's policy logits (B, A) and values (B,) for ``planes`` (B, C, N, N), float32 on the CPU."""
        x = torch.from_numpy(planes).to(self.device, non_blocking=True)
        if self.options.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.model.training:  # the trainer switches back to train() for its updates
            self.model.eval()
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.autocast):
            logits, values = self.forward(x)
        # float32 numpy, as mcts.NetworkEvaluator, so that both engines see the same priors
        return logits.float().cpu().numpy(), values.float().cpu().numpy()

    def __call__(self, leaves: Leaves) -> tuple[np.ndarray, np.ndarray]:
        logits, values = self.raw(leaves.planes)
        self.calls += 1
        self.positions += len(leaves)
        return masked_priors(logits, leaves.legal), values


def masked_priors(logits: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """Softmax of ``logits`` (B, A) over the ``legal`` moves (illegal ones get 0); ``logits`` is changed in place."""
    logits[~legal] = -np.inf
    logits -= logits.max(axis=1, keepdims=True)
    priors = np.exp(logits)
    priors /= priors.sum(axis=1, keepdims=True)
    return priors


class BatchedSearch:
    """``trees`` search trees over Go positions, searched together (module docstring).

    Args:
        trees: independent trees (games) searched together.
        board_size, komi, max_moves: the games' rules (as `GoGame`; every root must match them).
        history_length: history planes of the leaves' features.
        root: "puct" (AlphaGo Zero) or "gumbel" (Gumbel AlphaZero; call `prepare_gumbel` before each search).
        leaves_per_tree: descents per tree in one step (one network call); more than one uses virtual loss.
        virtual_loss: force virtual loss on or off (default: on when ``leaves_per_tree > 1``).
        c_puct, fpu_reduction: PUCT constants (as the reference's).
        c_visit, c_scale: Gumbel's sigma(q) = (c_visit + max N) * c_scale * q (q rescaled to [0, 1]).
        nodes: initial node slots per tree (the arrays grow when a search needs more).

    Usage: `set_root` (or `advance` after a move), `expand_roots`, optionally `add_dirichlet_noise` /
    `prepare_gumbel`, `search`, then the read-outs (`root_visits`, `root_priors`, `improved_policy`, ...).
    """

    def __init__(self, trees: int, board_size: int, komi: float = 7.5, history_length: int = 4, *,
                 max_moves: int | None = None, root: str = "puct", leaves_per_tree: int = 1,
                 virtual_loss: bool | None = None, c_puct: float = 1.5, fpu_reduction: float = 0.2,
                 c_visit: float = 50.0, c_scale: float = 0.1, nodes: int = 64):
        if root not in ROOTS:
            raise ValueError(f"root must be one of {sorted(ROOTS)}, got {root!r}")
        if trees < 1 or leaves_per_tree < 1:
            raise ValueError("trees and leaves_per_tree must be at least 1")
        template = GoGame(board_size, komi, max_moves)
        n = template.board_size
        self.trees = int(trees)
        self.board_size = n
        self.komi = float(komi)
        self.max_moves = template.max_moves
        self.history_length = int(history_length)
        self.actions = n * n + 1
        self.root = root
        self.leaves_per_tree = int(leaves_per_tree)
        self.virtual_loss = leaves_per_tree > 1 if virtual_loss is None else bool(virtual_loss)
        self.const, _ = _tables(n)
        self.params = np.array([c_puct, fpu_reduction, c_visit, c_scale, self.komi], dtype=np.float64)
        self.iparams = np.array([ROOTS[root], self.history_length, self.max_moves, self.leaves_per_tree,
                                 int(self.virtual_loss)], dtype=np.int64)
        g, nn, a = self.trees, n * n, self.actions
        self.nodes = np.zeros((g, nodes, 6), dtype=np.int32)
        self.node_f = np.zeros((g, nodes, 2), dtype=np.float64)
        self.edges_i = np.zeros((g, nodes * a, 3), dtype=np.int32)
        self.edges_f = np.zeros((g, nodes * a, 2), dtype=np.float32)
        self.used = np.zeros((g, 2), dtype=np.int32)
        cap = table_capacity(self.max_moves)
        self.root_state = np.zeros((g, STATE_ROWS, nn), dtype=np.int64)
        self.root_table = np.zeros((g, cap), dtype=np.int64)
        self.root_counts = np.zeros((g, nn + 2), dtype=np.int64)
        self.root_meta = np.zeros((g, 2), dtype=np.int64)
        self.root_info = np.zeros((g, 4), dtype=np.int64)
        # Per tree, the last position replayed (`_replay`): the engine state, its meta (hash, stones), info (node,
        # depth, colour to play, history slot, positions added to the superko table), the hash and stone count of
        # each position added; and one buffer for a path's actions.
        depth = self.max_moves + 2
        self.cache = (np.zeros((g, STATE_ROWS, nn), dtype=np.int64), np.zeros((g, 2), dtype=np.int64),
                      np.zeros((g, 5), dtype=np.int64), np.zeros((g, depth), dtype=np.int64),
                      np.zeros((g, depth), dtype=np.int64), np.zeros(depth, dtype=np.int64))
        self.cache[2][:, C_NODE] = -1
        b = g * self.leaves_per_tree
        self.leaf_tree = np.zeros(b, dtype=np.int32)
        self.leaf_node = np.zeros(b, dtype=np.int32)
        self.planes = np.zeros((b, num_planes(self.history_length), nn), dtype=np.float32)
        self.legal = np.zeros((b, a), dtype=np.bool_)
        self.boards = np.zeros((b, nn), dtype=np.int8)
        self.to_play = np.zeros(b, dtype=np.int8)
        self.work = np.zeros(a, dtype=np.float64)
        self.gumbel = np.full((g, a), -np.inf, dtype=np.float32)
        self.schedule = np.zeros((g, 1), dtype=np.int32)
        self.sim_index = np.zeros(g, dtype=np.int64)
        self.calls = 0  # evaluator calls and positions evaluated, for the mean batch size
        self.evaluated = 0
        for t in range(g):
            self.set_root(t, template)

    # -- the arrays as the kernels take them ---------------------------------------------------------------------

    @property
    def _tree(self):
        return self.nodes, self.node_f, self.edges_i, self.edges_f, self.used

    @property
    def _roots(self):
        return self.root_state, self.root_table, self.root_counts, self.root_meta, self.root_info

    # -- roots ---------------------------------------------------------------------------------------------------

    def set_root(self, t: int, game: GoGame) -> None:
        """Tree ``t`` becomes a fresh tree over ``game``'s position (copied; the game is not kept)."""
        if game.board_size != self.board_size or game.max_moves != self.max_moves or game.komi != self.komi:
            raise ValueError(f"the search is for {self.board_size}x{self.board_size}, komi {self.komi:g}, "
                             f"max_moves {self.max_moves}; got {game!r} (komi {game.komi:g}, "
                             f"max_moves {game.max_moves})")
        self.root_state[t] = game._state
        self.root_table[t] = game._seen
        self.root_counts[t] = game._seen_counts
        self.root_meta[t] = game._meta
        self.root_info[t] = (game._hist_pos, game.consecutive_passes, game.move_number, game.to_play)
        self.cache[2][t] = (-1, 0, 0, 0, 0)  # (its superko table was overwritten with the game's)
        self._fresh_tree(t, game.is_over)

    def _fresh_tree(self, t: int, over: bool) -> None:
        self.nodes[t, 0] = (-1, -1, -1, -1, 0, int(over))
        self.node_f[t, 0] = 0.0
        if over:
            colour = int(self.root_info[t, TO_PLAY])
            self.node_f[t, 0, VALUE] = _terminal_value(self.root_state[t], self.const, colour, self.komi)
        self.used[t] = (1, 0)

    def advance(self, t: int, action: int, keep: bool = True) -> None:
        """Play ``action`` at tree ``t``'s root: the root position moves on (with the engine's kernels) and, with
        ``keep``, the subtree under the action becomes the tree (tree reuse). Raises ValueError if illegal."""
        info = self.root_info[t]
        if self.nodes[t, 0, TERMINAL]:
            raise ValueError("the game is over at this root")
        colour = int(info[TO_PLAY])
        pass_action = self.actions - 1
        action = int(action)
        if not 0 <= action <= pass_action:
            raise ValueError(f"action {action} is off the board")
        state, table, counts, meta = (self.root_state[t], self.root_table[t], self.root_counts[t],
                                      self.root_meta[t])
        if action != pass_action and _legality_code(action, colour, state, self.const, table, counts, meta) != LEGAL:
            raise ValueError(f"action {action} is illegal at the root of tree {t}")
        child = -1
        if self.nodes[t, 0, COUNT] >= 0:
            first, count = self.nodes[t, 0, FIRST], self.nodes[t, 0, COUNT]
            actions = self.edges_i[t, first:first + count, ACTION]
            k = np.searchsorted(actions, action)
            if k < count and actions[k] == action:
                child = int(self.edges_i[t, first + k, CHILD])
        info[HIST_POS] = (info[HIST_POS] + 1) % HISTORY_DEPTH
        _apply(action, colour, int(info[HIST_POS]), state, self.const, table, counts, meta)
        info[PASSES] = info[PASSES] + 1 if action == pass_action else 0
        info[MOVES] += 1
        info[TO_PLAY] = -colour
        over = info[PASSES] >= 2 or info[MOVES] >= self.max_moves
        if keep and child >= 0 and not over:
            _reroot(self._tree, t, child)
        else:
            self._fresh_tree(t, bool(over))

    def root_matches(self, t: int, game: GoGame) -> bool:
        """Whether tree ``t``'s root is ``game``'s position (hash, player to move, move number, passes)."""
        info = self.root_info[t]
        return (int(self.root_meta[t, 0]) == game.hash and int(info[TO_PLAY]) == game.to_play
                and int(info[MOVES]) == game.move_number and int(info[PASSES]) == game.consecutive_passes)

    # -- searching -----------------------------------------------------------------------------------------------

    def _ensure_capacity(self, simulations: int) -> None:
        """Grow the node and edge pools so that ``simulations`` more playouts fit in every tree."""
        need_nodes = int(self.used[:, 0].max()) + simulations + 1
        need_edges = int(self.used[:, 1].max()) + (simulations + 1) * self.actions
        m, e = self.nodes.shape[1], self.edges_i.shape[1]
        if need_nodes > m:
            m2 = max(need_nodes, 2 * m)
            self.nodes = _grow(self.nodes, m2)
            self.node_f = _grow(self.node_f, m2)
        if need_edges > e:
            e2 = max(need_edges, 2 * e)
            self.edges_i = _grow(self.edges_i, e2)
            self.edges_f = _grow(self.edges_f, e2)

    def _step(self, evaluate: LeafEvaluator, remaining: np.ndarray, only_roots: bool) -> int:
        tree = self._tree
        count = _select(tree, self._roots, self.cache, self.const, self.params, self.iparams, self.gumbel,
                        self.schedule, self.sim_index, remaining, only_roots, self.leaf_tree, self.leaf_node,
                        self.planes, self.legal, self.boards, self.to_play, self.work)
        if count:
            n = self.board_size
            leaves = Leaves(self.planes[:count].reshape(count, -1, n, n), self.legal[:count], self.boards[:count],
                            self.to_play[:count])
            priors, values = evaluate(leaves)
            self.calls += 1
            self.evaluated += count
            _expand_and_backup(tree, count, self.leaf_tree, self.leaf_node, self.legal,
                               np.ascontiguousarray(priors, dtype=np.float32),
                               np.ascontiguousarray(values, dtype=np.float32).reshape(-1),
                               bool(self.virtual_loss and not only_roots))
        return count

    def expand_roots(self, evaluate: LeafEvaluator) -> int:
        """Evaluate the roots that are not expanded yet (and not over), in one call; returns how many."""
        self._ensure_capacity(0)
        try:
            return self._step(evaluate, np.zeros(self.trees, dtype=np.int64), True)
        finally:
            _flush(self._roots, self.cache)  # the roots' superko tables as they were

    def search(self, evaluate: LeafEvaluator, simulations) -> int:
        """Run ``simulations`` playouts (one number, or one per tree) in every tree; returns the number of leaf
        evaluations. Each step evaluates the new leaves of all trees in one call. A root that is not expanded yet is
        expanded by its first playout, as in the reference."""
        remaining = np.zeros(self.trees, dtype=np.int64)
        remaining[:] = simulations
        if remaining.max(initial=0) <= 0:
            return 0
        self._ensure_capacity(int(remaining.max()))
        evaluations = 0
        try:
            while remaining.max() > 0:
                evaluations += self._step(evaluate, remaining, False)
        finally:
            _flush(self._roots, self.cache)  # the roots' superko tables as they were, the cached positions dropped
        return evaluations

    # -- root noise and Gumbel -----------------------------------------------------------------------------------

    def _root_edges(self, t: int) -> slice:
        first, count = int(self.nodes[t, 0, FIRST]), int(self.nodes[t, 0, COUNT])
        return slice(first, first + max(count, 0))

    def add_dirichlet_noise(self, t: int, rng: np.random.Generator, alpha: float, fraction: float) -> None:
        """Mix Dirichlet(alpha) noise into the root priors of tree ``t`` (as `mcts.Node.add_dirichlet_noise`)."""
        edges = self._root_edges(t)
        count = edges.stop - edges.start
        if count == 0:
            return
        noise = rng.dirichlet([alpha] * count).astype(np.float32)
        prior = self.edges_f[t, edges, EDGE_P]
        self.edges_f[t, edges, EDGE_P] = (1 - fraction) * prior + fraction * noise

    def prepare_gumbel(self, t: int, simulations: int, considered: int, rng: np.random.Generator | None,
                       exclude: np.ndarray | None = None) -> int:
        """Draw the root's Gumbel noise (zeros without ``rng``: deterministic), keep the top ``considered`` actions
        by g + logits (not those in the bool mask ``exclude``, unless nothing else is legal) and set the
        sequential-halving schedule for ``simulations`` playouts. The root must be expanded. Returns m."""
        if self.nodes[t, 0, COUNT] < 0:
            raise ValueError("expand the root before prepare_gumbel")
        edges = self._root_edges(t)
        actions = self.edges_i[t, edges, ACTION]
        g = rng.gumbel(size=len(actions)).astype(np.float32) if rng is not None else \
            np.zeros(len(actions), dtype=np.float32)
        allowed = np.ones(len(actions), dtype=bool)
        if exclude is not None and (~exclude[actions]).any():
            allowed = ~exclude[actions]
        logits = np.log(np.maximum(self.edges_f[t, edges, EDGE_P].astype(np.float64), 1e-30))
        score = np.where(allowed, g + logits, -np.inf)
        m = int(min(considered, allowed.sum()))
        top = np.argsort(-score, kind="stable")[:m]
        self.gumbel[t] = -np.inf
        self.gumbel[t, actions[top]] = g[top]
        if self.schedule.shape[1] < simulations:
            self.schedule = np.zeros((self.trees, simulations), dtype=np.int32)
        self.schedule[t] = 0
        self.schedule[t, :simulations] = halving_schedule(m, simulations)
        self.schedule[t, simulations:] = -1
        self.sim_index[t] = 0
        return m

    def _root_score_arrays(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        edges = self._root_edges(t)
        count = edges.stop - edges.start
        improved = np.zeros(count, dtype=np.float64)
        scores = np.zeros(count, dtype=np.float64)
        _root_scores(self._tree, t, self.gumbel, self.params[2], self.params[3], self.work, improved, scores)
        return self.edges_i[t, edges, ACTION], improved, scores

    def improved_policy(self, t: int) -> np.ndarray:
        """Gumbel's policy target softmax(logits + sigma(completed Q)) over the root's legal moves, (A,) float32."""
        out = np.zeros(self.actions, dtype=np.float32)
        if self.nodes[t, 0, COUNT] > 0:
            actions, improved, _ = self._root_score_arrays(t)
            out[actions] = improved
        return out

    def gumbel_action(self, t: int) -> int:
        """The action sequential halving chose: the best g + logits + sigma(q) among the most visited considered
        actions."""
        actions, _, scores = self._root_score_arrays(t)
        visits = self.edges_i[t, self._root_edges(t), EDGE_N]
        considered = np.isfinite(scores)
        most = visits[considered].max()
        score = np.where(considered & (visits == most), scores, -np.inf)
        return int(actions[int(np.argmax(score))])

    # -- read-outs -----------------------------------------------------------------------------------------------

    def node(self, t: int, path: tuple[int, ...] = ()) -> int:
        """Index of the node reached from the root by the actions ``path`` (-1 if it does not exist)."""
        node = 0
        for action in path:
            count = self.nodes[t, node, COUNT]
            if count < 0:
                return -1
            first = self.nodes[t, node, FIRST]
            actions = self.edges_i[t, first:first + count, ACTION]
            k = int(np.searchsorted(actions, action))
            if k >= count or actions[k] != action:
                return -1
            node = int(self.edges_i[t, first + k, CHILD])
            if node < 0:
                return -1
        return node

    def node_stats(self, t: int, node: int = 0) -> dict[str, np.ndarray | int | bool]:
        """A node's statistics laid out per action like `mcts.Node`: visits, value_sum, prior (float32, (A,)),
        legal (bool), total_visits, expanded, terminal, value."""
        out = {name: np.zeros(self.actions, dtype=np.float32) for name in ("visits", "value_sum", "prior")}
        out["legal"] = np.zeros(self.actions, dtype=bool)
        count = int(self.nodes[t, node, COUNT])
        if count > 0:
            first = int(self.nodes[t, node, FIRST])
            actions = self.edges_i[t, first:first + count, ACTION]
            out["visits"][actions] = self.edges_i[t, first:first + count, EDGE_N]
            out["value_sum"][actions] = self.edges_f[t, first:first + count, EDGE_W]
            out["prior"][actions] = self.edges_f[t, first:first + count, EDGE_P]
            out["legal"][actions] = True
        out.update(total_visits=int(self.nodes[t, node, VISITS]), expanded=count >= 0,
                   terminal=bool(self.nodes[t, node, TERMINAL]), value=float(self.node_f[t, node, VALUE]))
        return out

    def children(self, t: int, node: int = 0) -> dict[int, int]:
        """Action -> child node index, for the children created so far."""
        count = int(self.nodes[t, node, COUNT])
        if count <= 0:
            return {}
        first = int(self.nodes[t, node, FIRST])
        block = self.edges_i[t, first:first + count]
        return {int(a): int(c) for a, c in zip(block[:, ACTION], block[:, CHILD]) if c >= 0}

    def root_visits(self, t: int) -> np.ndarray:
        return self.node_stats(t)["visits"]

    def root_total_visits(self, t: int) -> int:
        return int(self.nodes[t, 0, VISITS])

    def root_value(self, t: int) -> float:
        """Mean backed-up value at the root for its player to move (0 before any playout)."""
        edges = self._root_edges(t)
        total = self.edges_i[t, edges, EDGE_N].sum()
        return float(self.edges_f[t, edges, EDGE_W].sum() / total) if total else 0.0

    def tree_size(self, t: int) -> tuple[int, int]:
        """(nodes, edges) in use by tree ``t``."""
        return int(self.used[t, 0]), int(self.used[t, 1])


def _grow(array: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((array.shape[0], size, *array.shape[2:]), dtype=array.dtype)
    out[:, :array.shape[1]] = array
    return out
