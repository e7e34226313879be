"""AlphaZero's settings: the one source of its defaults and of their checks (``--set key=value`` names below)."""

from __future__ import annotations

from dataclasses import dataclass

from deep_arena.envs.go.features import HISTORY_DEPTH
from deep_arena.runtime.settings import RunSettings, Settings, nested, setting


@dataclass
class NetSettings(Settings):
    channels: int = setting(48, low=1, help="residual tower width")
    blocks: int = setting(4, low=1, help="residual blocks")
    value_hidden: int = setting(64, low=1, help="hidden units of the value head")
    dropout: float = setting(0.0, low=0.0, high=1.0, high_open=True)


@dataclass
class SelfPlaySettings(Settings):
    simulations: int = setting(64, low=1, help="MCTS simulations of a full search")
    fast_simulations: int = setting(16, low=1, help="simulations of a fast move (playout cap randomisation)")
    full_search_prob: float = setting(0.25, low=0.0, high=1.0, low_open=True,
                                      help="share of moves searched fully (and used as policy targets)")
    parallel_games: int = setting(32, low=1, help="games searched together (one batched network call per step)")
    c_puct: float = setting(1.5, low=0.0, low_open=True)
    fpu_reduction: float = setting(0.2, low=0.0)
    dirichlet_alpha: float | None = setting(None, low=0.0, low_open=True, help="default 10 / legal moves")
    noise_fraction: float = setting(0.25, low=0.0, high=1.0)
    temperature_moves: int | None = setting(None, low=0, help="moves sampled by visit count; default N*N/8")
    pass_min_move: int | None = setting(None, low=0, help="no passing before this move; default N*N/2")
    engine: str = setting("compiled", choices=("python", "compiled"),
                          help="search engine: compiled (search.py: numba trees in arrays) or python (mcts.py, "
                               "the readable reference); the same PUCT search, node for node")
    root: str = setting("puct", choices=("puct", "gumbel"),
                        help="puct (AlphaGo Zero: Dirichlet noise, visit-count targets, tree reuse) or gumbel "
                             "(Gumbel AlphaZero: top-k + sequential halving, completed-Q targets; engine=compiled)")
    leaves_per_game: int = setting(1, low=1, help="compiled engine: leaves of one game per network call (virtual "
                                                  "loss above 1)")
    gumbel_considered: int = setting(16, low=1, help="gumbel: actions considered at the root (m)")
    gumbel_c_visit: float = setting(50.0, low=0.0, help="gumbel: sigma(q) = (c_visit + max N) * c_scale * q")
    gumbel_c_scale: float = setting(0.1, low=0.0, low_open=True, help="gumbel: see gumbel_c_visit")
    actors: int = setting(0, low=0, help="self-play actor processes on Ray (agents.alphazero.actors; needs the "
                                         "[scale] extra); 0: self-play in the trainer's own process")
    actor_threads: int = setting(1, low=1, help="torch CPU threads of each actor (and the CPUs it asks Ray for)")
    ray_address: str | None = setting(None, help="Ray cluster to join (ray.init(address=...)); default: a local Ray "
                                                 "started with the machine's cores")
    inference_server: str = setting("auto", choices=("auto", "always", "never"),
                                    help="actors: one Ray actor evaluates every actor's leaves in batches, on the "
                                         "GPU (agents.alphazero.inference_server); auto: when CUDA is there")


@dataclass
class InferenceSettings(Settings):
    """How self-play and evaluation call the network (agents.alphazero.inference)."""

    precision: str = setting("auto", choices=("auto", "float32", "bfloat16", "float16"),
                             help="autocast dtype of network calls; auto: bfloat16 on CUDA (float16 where the GPU "
                                  "has no bfloat16) when mixed_precision, else float32")
    channels_last: bool = setting(False, help="NHWC memory layout of the network and its inputs (tensor cores)")
    compile: bool = setting(False, help="torch.compile the network for self-play calls (the first ones compile)")


@dataclass
class TrainSettings(Settings):
    batch_size: int = setting(256, low=1)
    sample_reuse: float = setting(4.0, low=0.0, low_open=True, help="SGD samples per new self-play position")
    optimizer: str = setting("adamw", choices=("adamw", "sgd"))
    lr: float = setting(2.0e-3, low=0.0, low_open=True)
    weight_decay: float = setting(1.0e-4, low=0.0)
    momentum: float = setting(0.9, low=0.0, high=1.0)
    value_weight: float = setting(1.0, low=0.0)
    lr_schedule: str = setting("cosine", choices=("constant", "cosine", "step"))
    min_lr_fraction: float = setting(0.1, low=0.0, high=1.0)
    lr_milestones: list[float] = setting([0.5, 0.75], help="step schedule: progress points (0..1) of each decay")
    lr_gamma: float = setting(0.3, low=0.0, low_open=True)
    grad_clip: float = setting(5.0, low=0.0, low_open=True)


@dataclass
class EvalSettings(Settings):
    sims: int = setting(32, low=1, help="simulations per move in evaluation games")
    games_vs_random: int = setting(10, low=0)
    gnugo_level: int = setting(1, low=0, high=10)
    games_vs_gnugo: int = setting(10, low=0)


@dataclass
class ExpertSettings(Settings):
    """Supervised start from GNU Go's own games before self-play (agents.alphazero.expert; games 0 = off)."""

    games: int = setting(0, low=0, help="GNU Go self-play games (0: off)")
    gnugo_level: int = setting(1, low=0, high=10)
    max_opening_moves: int = setting(4, low=0, help="each game opens with 0..this many random moves")
    train_steps: int = setting(1000, low=0, help="minibatch steps on the expert samples before self-play")
    workers: int | None = setting(None, low=1, help="processes playing the GNU Go games; default min(cores, games)")


@dataclass
class AlphaZeroSettings(RunSettings):
    board_size: int = setting(7, low=5, high=19)
    komi: float = setting(7.5)
    history_length: int = setting(4, low=1, high=HISTORY_DEPTH, help="past positions in the input planes")
    minutes: float | None = setting(None, low=0.0, low_open=True,
                                    help="wall-clock budget; training stops at whichever of minutes/iterations "
                                         "comes first")
    iterations: int | None = setting(None, low=1)
    net: NetSettings = nested(NetSettings)
    selfplay: SelfPlaySettings = nested(SelfPlaySettings)
    positions_per_iteration: int = setting(256, low=1)
    replay_capacity: int = setting(50_000, low=1)
    min_replay: int = setting(512, low=0)
    train: TrainSettings = nested(TrainSettings)
    eval_every: int = setting(10, low=1)
    eval: EvalSettings = nested(EvalSettings)
    checkpoint_every: int = setting(5, low=1)
    threads: int | None = setting(None, low=1, help="torch CPU threads; default all cores")
    mixed_precision: bool = setting(True, help="bfloat16/float16 autocast on CUDA")
    inference: InferenceSettings = nested(InferenceSettings)
    expert: ExpertSettings = nested(ExpertSettings)

    def check(self) -> None:
        if self.minutes is None and self.iterations is None:
            raise ValueError("give a budget: minutes and/or iterations")
        if self.selfplay.root == "gumbel" and self.selfplay.engine != "compiled":
            raise ValueError("selfplay.root=gumbel needs selfplay.engine=compiled")
        if any(not 0.0 <= m <= 1.0 for m in self.train.lr_milestones):
            raise ValueError(f"train.lr_milestones must be progress points from 0 to 1, got {self.train.lr_milestones}")
