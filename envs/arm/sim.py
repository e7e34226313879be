"""MuJoCo simulation of the Deep Arena arm and its end-effector controller (no Gymnasium, no pygame).

:class:`ArmSim` owns one ``MjModel``/``MjData`` pair built from ``assets/arm.xml`` and exposes what the tasks and
the Gymnasium adapter need:

* state: ``ee_pos`` / ``ee_vel`` of the grip point (the site between the finger pads), the finger opening, the
  cube's pose and velocities; all are read from arrays whose addresses are looked up once in ``__init__``;
* control: :meth:`ArmSim.set_ee_action` (Cartesian displacement of the grip point, through one step of damped
  least-squares inverse kinematics per control step that also holds the hand pointing straight down, with a
  null-space pull towards the home posture) and :meth:`ArmSim.set_joint_action` (joint-position increments);
  both end in position-servo targets for the joint actuators, which MuJoCo tracks during the physics substeps;
* :meth:`ArmSim.step`: ``substeps`` physics steps in one ``mj_step(..., nstep)`` call, then kinematics for the
  next observation, and a health check that reports a physics blow-up (MuJoCo's bad-qpos/qvel/qacc warnings, which
  MuJoCo answers by resetting the state, or a non-finite state) instead of letting it pass silently.

Defaults: ``timestep=0.004`` s × ``substeps=10`` = 25 Hz control (Fetch and panda-gym use 0.002 s × 20; pass
``timestep=0.002, substeps=20`` for that; the grasp test passes with both).
"""

from __future__ import annotations

import os
import sys
import warnings
from functools import lru_cache

from numba import njit

import numpy as np


def _import_mujoco():
    """``import mujoco``, surviving an OpenGL backend that cannot load.

    mujoco loads the backend that ``MUJOCO_GL`` names while it is imported, and it catches only ImportError there:
    with ``MUJOCO_GL=egl`` on a machine without libEGL (a bare GPU server, say), PyOpenGL raises AttributeError and
    ``import mujoco`` itself fails, physics included. Physics needs no OpenGL, so the import is redone with
    ``MUJOCO_GL=disable`` and a warning that says what to install; ``ArmRenderer`` then draws its 2-D views.
    """
    try:
        import mujoco  # lazy: guarded, see the docstring; runs once, at module import (``mujoco = _import_mujoco()``)
    except (AttributeError, OSError) as err:
        backend = os.environ.get("MUJOCO_GL", "")
        for name in [m for m in sys.modules if m == "mujoco" or m.startswith("mujoco.")]:
            del sys.modules[name]
        os.environ["MUJOCO_GL"] = "disable"
        import mujoco  # lazy: the retry without an OpenGL backend (the docstring says why)

        warnings.warn(f"MUJOCO_GL={backend!r}: MuJoCo's OpenGL backend failed to load ({type(err).__name__}: {err}). "
                      "Physics runs; rendering falls back to the 2-D views. For MuJoCo's 3-D view install EGL "
                      "(apt-get install libegl1 libgl1-mesa-dri) or OSMesa (libosmesa6, MUJOCO_GL=osmesa).",
                      RuntimeWarning, stacklevel=2)
    return mujoco


mujoco = _import_mujoco()

ASSET_PATH = os.path.join(os.path.dirname(__file__), "assets", "arm.xml")

TABLE_Z = 0.4            # height of the table top (m)
CUBE_HALF = 0.025         # half the cube's edge (m)
EE_STEP = 0.05            # metres of grip-point displacement for an action component of 1
MAX_DQ = 0.4              # largest joint-target change per control step (rad)
JOINT_STEP = 0.1          # radians of joint-target increment for an action component of 1
N_ARM = 7                 # arm joints j1..j7 (the first 7 qpos / qvel entries)
FINGER_OPEN = 0.045       # finger joint target (each finger's distance from the centre line) for gripper = +1
FINGER_CLOSED = -0.015    # target for gripper = -1: below the joint limit, so closed fingers squeeze what they hold
HOME_EE = np.array([0.3, 0.0, TABLE_Z + 0.2])  # grip point at reset
# Box the grip-point target is clipped to: above the table by enough that the fingertips stay clear of it.
EE_TARGET_LOW = np.array([0.05, -0.5, TABLE_Z + 0.02])
EE_TARGET_HIGH = np.array([0.8, 0.5, TABLE_Z + 0.55])
_DOWN_QUAT = np.array([0.0, 0.0, 1.0, 0.0])  # hand z axis along world -z, fingers sliding along world y
_DOWN_MAT = np.array([-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0])  # the same as a row-major rotation matrix
IK_DAMPING = 0.03         # λ of the damped least squares (m)
POSTURE_GAIN = 0.2        # null-space pull towards the home posture, per control step
_BAD_WARNINGS = (int(mujoco.mjtWarning.mjWARN_BADQPOS), int(mujoco.mjtWarning.mjWARN_BADQVEL),
                 int(mujoco.mjtWarning.mjWARN_BADQACC))


class ArmSim:
    """The arm, table, cube and goal marker in MuJoCo, with an end-effector controller.

    Args:
        timestep: physics step in seconds (default 0.004).
        substeps: physics steps per control step (default 10, so 25 Hz control with the default timestep).
        model_path: MJCF file (default: the shipped ``assets/arm.xml``).
    """

    def __init__(self, timestep: float = 0.004, substeps: int = 10, model_path: str | None = None):
        if not (np.isfinite(timestep) and 0 < timestep <= 0.01):
            raise ValueError(f"timestep must be in (0, 0.01] seconds, got {timestep!r}")
        if int(substeps) != substeps or substeps < 1:
            raise ValueError(f"substeps must be a positive integer, got {substeps!r}")
        self.model_path = model_path or ASSET_PATH
        self.model = mujoco.MjModel.from_xml_path(self.model_path)
        self.model.opt.timestep = float(timestep)
        self.data = mujoco.MjData(self.model)
        self.substeps = int(substeps)
        self.control_dt = self.model.opt.timestep * self.substeps
        m = self.model

        def jid(name):
            return mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)

        self.grip_site = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "grip")
        self.goal_site = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "goal")
        self.cube_body = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "cube")
        arm_joints = [jid(f"j{i}") for i in range(1, N_ARM + 1)]
        if [int(m.jnt_qposadr[j]) for j in arm_joints] != list(range(N_ARM)):
            raise ValueError("the arm joints j1..j7 must come first in the model")
        self.finger_qpos = np.array([m.jnt_qposadr[jid("finger_l")], m.jnt_qposadr[jid("finger_r")]])
        self.finger_dof = np.array([m.jnt_dofadr[jid("finger_l")], m.jnt_dofadr[jid("finger_r")]])
        cube_joint = jid("cube")
        self.cube_qpos = int(m.jnt_qposadr[cube_joint])
        self.cube_dof = int(m.jnt_dofadr[cube_joint])
        self.joint_low = m.jnt_range[arm_joints, 0].copy()
        self.joint_high = m.jnt_range[arm_joints, 1].copy()
        self.arm_bodies = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, n)
                           for n in ("base", "link1", "link2", "link3", "link4", "link5", "link6", "link7", "hand")]

        # Scratch buffers (no allocation in the control loop beyond small NumPy temporaries).
        self._jac = np.zeros((6, m.nv))
        self._bind_views()
        self._eye = np.eye(N_ARM)
        self.home_qpos = _home_qpos(self.model_path)
        self.home_ee_xy = HOME_EE[:2].copy()
        self.reset()

    _VIEWS = ("qpos", "qvel", "ctrl", "ee_pos", "_ee_mat", "cube_pos", "cube_quat", "cube_linvel", "cube_angvel",
              "_jacp", "_jacr")

    def _bind_views(self) -> None:
        """Views into MjData (valid for the life of self.data: never reallocated) and into the Jacobian buffer."""
        d = self.data
        self.qpos, self.qvel, self.ctrl = d.qpos, d.qvel, d.ctrl
        self.ee_pos = d.site_xpos[self.grip_site]
        self._ee_mat = d.site_xmat[self.grip_site]
        self.cube_pos = d.qpos[self.cube_qpos:self.cube_qpos + 3]
        self.cube_quat = d.qpos[self.cube_qpos + 3:self.cube_qpos + 7]
        self.cube_linvel = d.qvel[self.cube_dof:self.cube_dof + 3]
        self.cube_angvel = d.qvel[self.cube_dof + 3:self.cube_dof + 6]
        self._jacp, self._jacr = self._jac[:3], self._jac[3:]

    def __getstate__(self) -> dict:
        # copy.deepcopy and pickle copy MjModel and MjData; a copied view would be a plain array tied to neither
        # MjData (the copy would read stale positions), so the views are left out and bound again to the copy's.
        return {k: v for k, v in self.__dict__.items() if k not in self._VIEWS}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._bind_views()

    # -- state -----------------------------------------------------------------------------------------------------

    def reset(self, cube_xy: np.ndarray | None = None, goal: np.ndarray | None = None) -> None:
        """Arm at home with the fingers closed, at rest; the cube flat on the table at ``cube_xy`` (or parked
        out of the way at the table's far corner when None, for reach); the goal marker at ``goal``."""
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)  # also clears warnings and the solver's warm start: same state, same future
        d.qpos[:N_ARM] = self.home_qpos
        d.ctrl[:N_ARM] = self.home_qpos
        d.qpos[self.finger_qpos] = 0.0
        d.ctrl[N_ARM:] = FINGER_CLOSED
        xy = (0.75, 0.45) if cube_xy is None else cube_xy
        d.qpos[self.cube_qpos:self.cube_qpos + 7] = (xy[0], xy[1], TABLE_Z + CUBE_HALF, 1.0, 0.0, 0.0, 0.0)
        if goal is not None:
            m.site_pos[self.goal_site] = goal
        mujoco.mj_forward(m, d)
        self._update_jacobian()

    def remove_cube(self) -> None:
        """Take the cube out of the scene (reach): invisible, no contacts, floating at its parked spot; saves the
        cube-table contacts in every physics step."""
        m = self.model
        for g in range(m.ngeom):
            if m.geom_bodyid[g] == self.cube_body:
                m.geom_contype[g] = m.geom_conaffinity[g] = 0
                m.geom_rgba[g, 3] = 0.0
        m.body_gravcomp[self.cube_body] = 1.0

    def hold_fingers(self, gap: float = 0.01) -> None:
        """Fingers fixed at ``gap`` (blocked gripper): clear of each other, so no joint-limit constraint is active."""
        self.data.qpos[self.finger_qpos] = gap / 2
        self.data.ctrl[N_ARM:N_ARM + 2] = gap / 2
        mujoco.mj_forward(self.model, self.data)

    @property
    def goal_pos(self) -> np.ndarray:
        return self.model.site_pos[self.goal_site]

    def set_goal_marker(self, goal: np.ndarray) -> None:
        """Move the goal marker (a site on the world body: drawn, never in contact)."""
        self.model.site_pos[self.goal_site] = goal
        self.data.site_xpos[self.goal_site] = goal

    @property
    def finger_width(self) -> float:
        """Gap between the finger pads (m)."""
        q = self.data.qpos
        return float(q[self.finger_qpos[0]] + q[self.finger_qpos[1]])

    @property
    def finger_width_vel(self) -> float:
        v = self.data.qvel
        return float(v[self.finger_dof[0]] + v[self.finger_dof[1]])

    def ee_vel(self) -> np.ndarray:
        """Grip-point linear velocity (m/s), from the arm Jacobian at the current state."""
        return self._jacp[:, :N_ARM] @ self.data.qvel[:N_ARM]

    def fill_observation(self, out: np.ndarray) -> None:
        """Write the observation vector documented in ``envs.arm.env.ArmEnv`` into ``out`` (length 8 without the
        cube, 24 with it): grip point, its velocity, finger gap and its rate, then the cube's position, position
        relative to the grip point, quaternion (w ≥ 0), linear and angular velocity."""
        _fill_observation(out, self.ee_pos, self._jac, self.data.qpos, self.data.qvel, self.finger_qpos,
                          self.finger_dof, self.cube_qpos, self.cube_dof)

    def body_positions(self) -> np.ndarray:
        """World positions of the arm's bodies from the base to the hand, then the grip point (for 2-D drawing)."""
        return np.vstack([self.data.xpos[self.arm_bodies], self.ee_pos[None]])

    # -- control ---------------------------------------------------------------------------------------------------

    def set_gripper(self, command: float) -> None:
        """``command`` in [-1, 1]: -1 closes (squeezing), +1 opens fully; absolute finger targets."""
        target = FINGER_CLOSED + (command + 1.0) * 0.5 * (FINGER_OPEN - FINGER_CLOSED)
        self.data.ctrl[N_ARM] = target
        self.data.ctrl[N_ARM + 1] = target

    def set_ee_action(self, delta: np.ndarray) -> None:
        """Servo targets that move the grip point by ``delta`` metres (target clipped to the workspace box) and keep
        the hand pointing down, from one damped-least-squares IK step at the current state:
        ``dq = Jᵀ(JJᵀ + λ²I)⁻¹ e + (I − J⁺J)·k·(q_home − q)``."""
        _ee_control(self._jac, self._ee_mat, self.ee_pos, delta, self.data.qpos, self.home_qpos, self.joint_low,
                    self.joint_high, EE_TARGET_LOW, EE_TARGET_HIGH, self.data.ctrl)

    def set_joint_action(self, delta: np.ndarray) -> None:
        """Servo targets = current joint positions + ``delta`` radians, within the joint limits."""
        np.clip(self.data.qpos[:N_ARM] + delta, self.joint_low, self.joint_high, out=self.data.ctrl[:N_ARM])

    # -- stepping --------------------------------------------------------------------------------------------------

    def step(self) -> str | None:
        """Advance one control step. Returns None, or a message when the physics blew up (MuJoCo warned of a bad
        position, velocity or acceleration and reset itself, or the state is not finite); the state is then not
        meaningful and the caller should end the episode."""
        m, d = self.model, self.data
        before = d.warning.number.copy()  # .number is a live view
        mujoco.mj_step(m, d, nstep=self.substeps)
        after = d.warning.number
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        self._update_jacobian()
        if (after != before).any():
            for w in _BAD_WARNINGS:
                if after[w] != before[w]:
                    name = mujoco.mjtWarning(w).name
                    return f"MuJoCo warning {name} at t={d.time:.3f}s (MuJoCo reset the state)"
        # qpos/qvel sum to NaN/inf if any entry is: one reduction each instead of isfinite(...).all()
        if not np.isfinite(d.qpos.sum() + d.qvel.sum()):
            return f"non-finite state at t={d.time:.3f}s"
        return None

    def _update_jacobian(self) -> None:
        mujoco.mj_jacSite(self.model, self.data, self._jacp, self._jacr, self.grip_site)


@lru_cache(maxsize=None)
def _home_qpos(model_path: str) -> np.ndarray:
    """Arm joint angles that put the grip point at HOME_EE with the hand pointing down, found once per model by
    iterating the controller's IK on the kinematics alone (no dynamics)."""
    m = mujoco.MjModel.from_xml_path(model_path)
    d = mujoco.MjData(m)
    site = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "grip")
    q = np.array([0.0, 0.4, 0.0, 1.6, 0.0, 1.1, 0.0])
    low, high = m.jnt_range[:N_ARM, 0], m.jnt_range[:N_ARM, 1]
    jacp, jacr = np.zeros((3, m.nv)), np.zeros((3, m.nv))
    quat, neg, qerr, rerr = np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(3)
    for _ in range(300):
        d.qpos[:N_ARM] = q
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        mujoco.mj_jacSite(m, d, jacp, jacr, site)
        mujoco.mju_mat2Quat(quat, d.site_xmat[site])
        mujoco.mju_negQuat(neg, quat)
        mujoco.mju_mulQuat(qerr, _DOWN_QUAT, neg)
        mujoco.mju_quat2Vel(rerr, qerr, 1.0)
        err = np.concatenate([HOME_EE - d.site_xpos[site], rerr])
        jac = np.vstack([jacp, jacr])[:, :N_ARM]
        q = np.clip(q + jac.T @ np.linalg.solve(jac @ jac.T + 1e-4 * np.eye(6), err), low, high)
    if np.linalg.norm(err) > 1e-4:
        raise RuntimeError(f"could not place the arm at its home pose (error {np.linalg.norm(err):.2e})")
    q.setflags(write=False)
    return q


@njit(cache=True, nogil=True)
def _ee_control(jac, xmat, ee, delta, qpos, home, jlow, jhigh, tlow, thigh, ctrl):  # pragma: no cover (numba)
    """One damped-least-squares IK step (the body of :meth:`ArmSim.set_ee_action`, compiled: the NumPy version
    spent ~25 µs in call overhead on 6×7 matrices).

    Task error e = (position error to the clipped target, orientation error ½ Σ_j R[:, j] × R_down[:, j]);
    dq = Jᵀ(JJᵀ + λ²I)⁻¹(e − J p) + p with the posture term p = k (q_home − q), i.e. the DLS step plus p projected
    onto the (damped) null space; dq clipped to ±MAX_DQ, then q + dq to the joint limits → ctrl[:7]."""
    e = np.empty(6)
    for i in range(3):
        t = min(max(ee[i] + delta[i], tlow[i]), thigh[i])
        e[i] = t - ee[i]
    # columns of the current (R) and target (D) rotations; xmat is row-major
    e[3] = 0.0
    e[4] = 0.0
    e[5] = 0.0
    for j in range(3):
        r0, r1, r2 = xmat[j], xmat[3 + j], xmat[6 + j]
        d0, d1, d2 = _DOWN_MAT[j], _DOWN_MAT[3 + j], _DOWN_MAT[6 + j]
        e[3] += 0.5 * (r1 * d2 - r2 * d1)
        e[4] += 0.5 * (r2 * d0 - r0 * d2)
        e[5] += 0.5 * (r0 * d1 - r1 * d0)
    p = np.empty(N_ARM)
    for k in range(N_ARM):
        p[k] = POSTURE_GAIN * (home[k] - qpos[k])
    rhs = np.empty(6)
    a = np.empty((6, 6))
    for i in range(6):
        acc = e[i]
        for k in range(N_ARM):
            acc -= jac[i, k] * p[k]
        rhs[i] = acc
        for j in range(i + 1):
            acc = 0.0
            for k in range(N_ARM):
                acc += jac[i, k] * jac[j, k]
            a[i, j] = acc
        a[i, i] += IK_DAMPING * IK_DAMPING
    # Cholesky A = L Lᵀ (lower triangle in place), then solve L Lᵀ y = rhs
    for j in range(6):
        s = a[j, j]
        for k in range(j):
            s -= a[j, k] * a[j, k]
        s = np.sqrt(s)
        a[j, j] = s
        for i in range(j + 1, 6):
            v = a[i, j]
            for k in range(j):
                v -= a[i, k] * a[j, k]
            a[i, j] = v / s
    y = np.empty(6)
    for i in range(6):
        v = rhs[i]
        for k in range(i):
            v -= a[i, k] * y[k]
        y[i] = v / a[i, i]
    for i in range(5, -1, -1):
        v = y[i]
        for k in range(i + 1, 6):
            v -= a[k, i] * y[k]
        y[i] = v / a[i, i]
    for k in range(N_ARM):
        dq = p[k]
        for i in range(6):
            dq += jac[i, k] * y[i]
        dq = min(max(dq, -MAX_DQ), MAX_DQ)
        ctrl[k] = min(max(qpos[k] + dq, jlow[k]), jhigh[k])


@njit(cache=True, nogil=True)
def _fill_observation(out, ee, jac, qpos, qvel, finger_qpos, finger_dof, cube_qpos, cube_dof):  # pragma: no cover
    for i in range(3):
        out[i] = ee[i]
        v = 0.0
        for k in range(N_ARM):
            v += jac[i, k] * qvel[k]
        out[3 + i] = v
    out[6] = qpos[finger_qpos[0]] + qpos[finger_qpos[1]]
    out[7] = qvel[finger_dof[0]] + qvel[finger_dof[1]]
    if out.shape[0] > 8:
        for i in range(3):
            out[8 + i] = qpos[cube_qpos + i]
            out[11 + i] = qpos[cube_qpos + i] - ee[i]
            out[18 + i] = qvel[cube_dof + i]
            out[21 + i] = qvel[cube_dof + 3 + i]
        sign = 1.0 if qpos[cube_qpos + 3] >= 0.0 else -1.0
        for i in range(4):
            out[14 + i] = sign * qpos[cube_qpos + 3 + i]
