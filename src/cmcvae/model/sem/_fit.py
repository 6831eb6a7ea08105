"""Feature-level linear causal SEM fitted to a correlation matrix with DAGMA.

The model is ``x = Wᵀx + e`` over all ``d`` features (genes, then proteins) with independent
noise; ``W[a, c]`` is the direct effect ``a → c``. Given the population correlation ``R`` of
``x``, the residual variance of node ``j`` is ``r_j = [(I − W)ᵀ R (I − W)]_jj`` and the score is

- ``"nv"`` (per-node noise variance, the Gaussian profile likelihood): ``½ Σ_j log r_j``;
- ``"ls"`` (least squares, equal noise variances): ``½ Σ_j r_j``;
- ``"me"`` (measurement error): the features are noisy readouts of latent levels
  that follow the SEM, ``x = z + u`` with ``z = Wᵀz + e``, ``e ~ N(0, diag ω)``,
  ``u ~ N(0, diag ψ)``; the score is the Gaussian negative log-likelihood of ``R`` under
  ``Σ = (I − W)^{-T} diag(ω) (I − W)^{-1} + diag(ψ)``, ``½ log det Σ + ½ tr(Σ⁻¹R)``, with
  ``ω`` and ``ψ`` fitted alongside ``W`` (:func:`me_score`). Unlike ``"nv"`` it is the full
  Gaussian likelihood, so it also counts ``log |det(I − W)|`` while ``W`` is still cyclic.
  Caveat (docs/model.md): started from ``W = 0`` the fit does not recover a large ``ψ`` even
  where the data have one (toy graphs with 50 % noise on one node end near ``ψ = 0.01``), so
  its better edge recovery on the simulator is not shown to come from the noise model.

Acyclicity follows DAGMA's central path (Bello et al., 2022): stage ``t`` minimises
``μ_t (score + λ₁ ‖W‖₁) + h_s(W)`` with ``h_s(W) = −log det(s I − W∘W) + d log s`` by Adam on
the closed-form gradient, with ``μ`` falling and ``s`` shrinking from stage to stage. Every
iterate is checked: ``(s I − W∘W)^{-1}`` must be finite and non-negative (an M-matrix); when it
is not, the step is undone, the learning rate halved and Adam's moments reset ("guard event").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cmcvae.model._dagma import h_dagma, inverse_and_grad, spectral_radius
from cmcvae.model.sem._shifts import InterventionShifts, ShiftTerm, shift_misfit

#: ``(μ, s, iterations)`` per stage of the central path.
DEFAULT_STAGES: tuple[tuple[float, float, int], ...] = (
    (1.0, 1.0, 300), (0.1, 0.9, 300), (0.01, 0.8, 300), (0.001, 0.7, 400))
SCORES = ("nv", "ls", "me")
#: Lower bound added to the fitted variances ``ω`` and ``ψ`` of the ``"me"`` score.
MIN_VARIANCE = 1e-3


def sem_score(rho: torch.Tensor, W: torch.Tensor, score: str = "nv",
              shift: ShiftTerm | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Score of ``W`` on correlation ``rho`` and its gradient.

    Parameters
    ----------
    rho
        ``d × d`` correlation.
    W
        ``d × d`` weighted adjacency.
    score
        ``"nv"`` (``½ Σ log r_j``) or ``"ls"`` (``½ Σ r_j``).
    shift
        A screen's regimes (:mod:`cmcvae.model.sem._shifts`): their misfit
        (:func:`~cmcvae.model.sem._shifts.shift_misfit`) is added to every ``r_j``.

    Returns
    -------
    value, gradient
        Scalar tensor and ``d × d`` tensor.
    """
    A = torch.eye(W.shape[0], dtype=W.dtype, device=W.device) - W
    K = rho @ A
    r = (A * K).sum(dim=0)
    if shift is not None:
        misfit, d_misfit = shift_misfit(W, shift)
        r = r + misfit
        K = K - 0.5 * d_misfit  # ∂r_j/∂W[:, j] = −2 K[:, j] + ∂misfit_j/∂W[:, j]
    if score == "nv":
        return 0.5 * torch.log(r).sum(), -K / r[None, :]
    return 0.5 * r.sum(), -K


def me_score(rho: torch.Tensor, W: torch.Tensor, log_omega: torch.Tensor, log_psi: torch.Tensor,
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Measurement-error SEM score of ``W`` on ``rho`` and its gradients (closed form).

    ``Σ = B⁻ᵀ Ω B⁻¹ + Ψ`` with ``B = I − W``, ``Ω = diag(ω)``, ``Ψ = diag(ψ)``,
    ``ω = exp(log_omega) + MIN_VARIANCE`` and ``ψ = exp(log_psi) + MIN_VARIANCE``; the value is
    ``½ log det Σ + ½ tr(Σ⁻¹ rho)``. With ``G = ½ (Σ⁻¹ − Σ⁻¹ rho Σ⁻¹)``:
    ``∂/∂W = 2 Σ_z G B⁻ᵀ`` (``Σ_z = B⁻ᵀ Ω B⁻¹``), ``∂/∂ω_j = (B⁻¹ G B⁻ᵀ)_jj`` and
    ``∂/∂ψ_j = G_jj``.

    Parameters
    ----------
    rho
        ``d × d`` correlation.
    W
        ``d × d`` weighted adjacency of the latent levels.
    log_omega, log_psi
        Length-``d`` logs of the exogenous and measurement-noise variances (less
        :data:`MIN_VARIANCE`).

    Returns
    -------
    value, grad_W, grad_log_omega, grad_log_psi
        Raises :class:`torch.linalg.LinAlgError` when ``Σ`` is not positive definite or
        ``I − W`` is singular (the caller treats it like a guard event).
    """
    d = W.shape[0]
    eye = torch.eye(d, dtype=W.dtype, device=W.device)
    Binv = torch.linalg.inv(eye - W)
    omega = torch.exp(log_omega) + MIN_VARIANCE
    psi = torch.exp(log_psi) + MIN_VARIANCE
    sigma_z = (Binv.T * omega) @ Binv
    L = torch.linalg.cholesky(sigma_z + torch.diag(psi))
    Sinv = torch.cholesky_inverse(L)
    SinvR = Sinv @ rho
    value = torch.log(torch.diagonal(L)).sum() + 0.5 * torch.diagonal(SinvR).sum()
    G = 0.5 * (Sinv - SinvR @ Sinv)
    G = 0.5 * (G + G.T)
    GBt = G @ Binv.T
    grad_W = 2.0 * sigma_z @ GBt
    grad_omega = (Binv * GBt.T).sum(dim=1)  # diag(B⁻¹ G B⁻ᵀ)
    return value, grad_W, grad_omega * (omega - MIN_VARIANCE), torch.diagonal(G) * (psi - MIN_VARIANCE)


def _margin_gradient(W: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
                     margin: float) -> tuple[float, torch.Tensor]:
    """Hinge ``Σ max(0, m + |W[t,s]| − |W[s,t]|)`` over prior edges ``s → t`` and its subgradient."""
    fwd, rev = W[src, dst], W[dst, src]
    slack = margin + rev.abs() - fwd.abs()
    active = slack > 0
    grad = torch.zeros_like(W)
    sign_fwd = torch.sign(fwd[active])
    sign_fwd[sign_fwd == 0] = 1.0
    grad.index_put_((dst[active], src[active]), torch.sign(rev[active]), accumulate=True)
    grad.index_put_((src[active], dst[active]), -sign_fwd, accumulate=True)
    return float(slack.clamp(min=0).sum()), grad


class _Adam:
    """Plain Adam on one tensor; :meth:`reset` clears the moments (after a guard event)."""

    def __init__(self, like: torch.Tensor, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.lr, self.betas, self.eps = lr, betas, eps
        self.m = torch.zeros_like(like)
        self.v = torch.zeros_like(like)
        self.t = 0

    def reset(self) -> None:
        self.m.zero_()
        self.v.zero_()
        self.t = 0

    def step(self, W: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        b1, b2 = self.betas
        self.t += 1
        self.m.mul_(b1).add_(grad, alpha=1 - b1)
        self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        m_hat = self.m / (1 - b1**self.t)
        v_hat = self.v / (1 - b2**self.t)
        return W - self.lr * m_hat / (v_hat.sqrt() + self.eps)


def fit_sem(rho: np.ndarray, *, l1: float = 0.1,
            stages: Sequence[Sequence[float]] = DEFAULT_STAGES, lr: float = 5e-3,
            score: str = "nv", prior: tuple[np.ndarray, np.ndarray] | None = None,
            lambda_prior: float = 0.0, margin: float = 0.05, guard_margin: float = 0.99,
            allowed: np.ndarray | None = None, noise_init: float = 0.5,
            dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu",
            callback: Callable[[dict[str, Any]], None] | None = None,
            shifts: InterventionShifts | None = None,
            ) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Fit a linear SEM ``x = Wᵀx + e`` to a correlation matrix along DAGMA's central path.

    The fit is deterministic (``W`` starts at zero and every gradient is exact), so it takes
    no seed; the randomness of the method is in the data thinning behind ``rho``.

    Parameters
    ----------
    rho
        ``d × d`` correlation matrix (positive definite, unit diagonal).
    l1
        Weight of ``‖W‖₁`` (inside the ``μ`` factor).
    stages
        ``(μ, s, iterations)`` per central-path stage.
    lr
        Adam learning rate at the start of every stage (halved at each guard event).
    score
        ``"nv"`` (per-node noise variances) or ``"ls"`` (least squares).
    prior
        Optional ``(source_index, target_index)`` arrays of prior edges; with
        ``lambda_prior > 0`` the hinge ``max(0, margin + |W[t,s]| − |W[s,t]|)`` pushes each
        edge forward.
    lambda_prior, margin
        Weight (inside the ``μ`` factor) and margin of the prior hinge.
    guard_margin
        On entering a stage ``W`` is shrunk by 0.9 until ``ρ(W∘W) < guard_margin · s``.
    allowed
        Optional boolean ``d × d`` mask of the edges ``W`` may use (``allowed[a, c]`` for
        ``a → c``); the others stay exactly zero (e.g. :func:`prior_orientation_mask`).
    noise_init
        ``"me"`` only: starting measurement-noise share ``ψ`` of every feature (``ω`` starts
        at ``1 − noise_init``).
    dtype, device
        Torch dtype and device of the iterations (float32 was as accurate as float64 on the
        benchmark and twice as fast).
    callback
        Called with each stage's history record when the stage ends.
    shifts
        A screen's perturbed cells as mean shifts (:mod:`cmcvae.model.sem._shifts`): their
        misfit joins the ``"nv"``/``"ls"`` score (the interventional likelihood).

    Returns
    -------
    W : numpy.ndarray
        ``d × d`` float64 weights (not thresholded, approximately acyclic: ``h(W)`` is small
        but not zero; see :func:`cmcvae.graph.threshold.project_to_dag`).
    history : list of dict
        One record per stage: ``stage``, ``mu``, ``s``, ``iterations``, ``objective``
        (``μ (score + λ₁‖W‖₁ [+ λ_prior hinge]) + h``), ``score``, ``l1_norm``, ``h``,
        ``spectral_radius`` (of ``W∘W``), ``guard_events``, ``nonfinite_events``,
        ``shrink_steps``, ``lr_final``, ``prior_hinge`` and ``seconds``; with ``"me"`` the
        last record also holds ``exogenous_variance`` (``ω``) and ``measurement_variance``
        (``ψ``) as lists.
    """
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, not {score!r}")
    if shifts is not None and score == "me":
        raise ValueError("interventions (shifts) need score 'nv' or 'ls', not 'me'")
    R = torch.as_tensor(np.asarray(rho), dtype=dtype, device=device)
    d = R.shape[0]
    off = 1.0 - torch.eye(d, dtype=dtype, device=device)
    if allowed is not None:
        off = off * torch.as_tensor(np.asarray(allowed, dtype=bool), dtype=dtype, device=device)
    W = torch.zeros(d, d, dtype=dtype, device=device)
    noise: list[torch.Tensor] = []
    if score == "me":
        if not 0.0 < noise_init < 1.0:
            raise ValueError(f"noise_init must be in (0, 1), not {noise_init!r}")
        noise = [torch.full((d,), float(np.log(1.0 - noise_init)), dtype=dtype, device=device),
                 torch.full((d,), float(np.log(noise_init)), dtype=dtype, device=device)]
    if prior is not None and lambda_prior > 0 and len(prior[0]):
        src = torch.as_tensor(np.asarray(prior[0]), dtype=torch.long, device=device)
        dst = torch.as_tensor(np.asarray(prior[1]), dtype=torch.long, device=device)
    else:
        src = dst = None
    shift = None if shifts is None else ShiftTerm.from_shifts(shifts, dtype, device)
    problem = _Problem(R, score, l1, lambda_prior, margin, src, dst, off, shift)
    history: list[dict[str, Any]] = []
    for k, (mu, s, n_iter) in enumerate(stages):
        start = time.perf_counter()
        mu, s, n_iter = float(mu), float(s), int(n_iter)
        W, shrink = _shrink_into_domain(W, guard_margin * s)
        W, noise, events, lr_final = _run_stage(problem, W, noise, mu, s, n_iter, lr)
        history.append(_record(k, mu, s, n_iter, W, problem, events, shrink, lr_final,
                               time.perf_counter() - start, noise))
        if callback is not None:
            callback(history[-1])
    if noise:
        history[-1]["exogenous_variance"] = (torch.exp(noise[0]) + MIN_VARIANCE).tolist()
        history[-1]["measurement_variance"] = (torch.exp(noise[1]) + MIN_VARIANCE).tolist()
    return W.double().cpu().numpy(), history


@dataclass
class _Problem:
    """What one fit minimises, apart from the stage's ``μ`` and ``s``.

    ``off`` masks the entries ``W`` may use (no diagonal; ``allowed``); ``src``/``dst`` are
    the prior edges of the hinge (``None``: no hinge); ``shift`` the screen's regimes.
    """

    R: torch.Tensor
    score: str
    l1: float
    lambda_prior: float
    margin: float
    src: torch.Tensor | None
    dst: torch.Tensor | None
    off: torch.Tensor
    shift: ShiftTerm | None = None


def _shrink_into_domain(W: torch.Tensor, limit: float) -> tuple[torch.Tensor, int]:
    """Shrink ``W`` by 0.9 until ``ρ(W∘W) < limit``; returns it and the number of shrinks."""
    shrink = 0
    while spectral_radius(W.cpu()) >= limit:
        W = W * 0.9
        shrink += 1
    return W, shrink


def _score_gradients(problem: _Problem, W: torch.Tensor,
                     noise: list[torch.Tensor]) -> list[torch.Tensor] | None:
    """Gradients of the score in ``W`` (and the noise variances); ``None`` when ``Σ`` fails."""
    if problem.score != "me":
        return [sem_score(problem.R, W, problem.score, problem.shift)[1]]
    try:
        return list(me_score(problem.R, W, *noise)[1:])
    except torch.linalg.LinAlgError:
        return None


def _run_stage(problem: _Problem, W: torch.Tensor, noise: list[torch.Tensor], mu: float, s: float,
               n_iter: int, lr: float) -> tuple[torch.Tensor, list[torch.Tensor], tuple[int, int], float]:
    """``n_iter`` guarded Adam steps of one central-path stage.

    An iterate whose ``(s I − W∘W)^{-1}`` is not finite and non-negative (or whose ``"me"``
    covariance is not positive definite) is undone: the last good iterate comes back, every
    learning rate is halved and Adam's moments reset (a guard event).

    Returns
    -------
    W, noise
        The last good iterate.
    (guard_events, nonfinite_events), lr_final
        The stage's counts and the final learning rate of ``W``.
    """
    adams = [_Adam(W, lr)] + [_Adam(v, lr) for v in noise]
    good, good_noise, guard, nonfinite = W, list(noise), 0, 0
    for _ in range(n_iter):
        Minv, grad_h = inverse_and_grad(W, s)  # the inverse is the guard's M-matrix test
        finite = bool(torch.isfinite(Minv).all())
        ok = finite and float(Minv.min()) >= -1e-5
        grads = _score_gradients(problem, W, noise) if ok else None
        if grads is None:
            nonfinite += not finite
            guard += 1
            W, noise = good, list(good_noise)
            for adam in adams:
                adam.lr *= 0.5
                adam.reset()
            continue
        good, good_noise = W, list(noise)
        grad = mu * (grads[0] + problem.l1 * torch.sign(W)) + grad_h
        if problem.src is not None:
            hinge = _margin_gradient(W, problem.src, problem.dst, problem.margin)[1]
            grad = grad + mu * problem.lambda_prior * hinge
        W = adams[0].step(W, grad * problem.off)
        noise = [a.step(v, mu * g) for a, v, g in zip(adams[1:], noise, grads[1:], strict=True)]
    return good, list(good_noise), (guard, nonfinite), adams[0].lr


def prior_orientation_mask(d: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Edges a fit may use when prior edges fix their direction.

    For every prior edge ``s → t`` whose reverse ``t → s`` is not itself a prior edge, the
    reverse is forbidden (a TF→target prior says the target does not regulate the TF's RNA
    through that same link); everything else, including the prior edges themselves, stays
    allowed. The prior only orients; it does not force an edge to exist.

    Parameters
    ----------
    d
        Number of features.
    src, dst
        Feature indices of the prior edges.

    Returns
    -------
    numpy.ndarray
        ``d × d`` boolean mask (``False`` on the diagonal).
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    prior = np.zeros((d, d), dtype=bool)
    prior[src, dst] = True
    allowed = ~(prior.T & ~prior)
    np.fill_diagonal(allowed, False)
    return allowed


def _record(k: int, mu: float, s: float, n_iter: int, W: torch.Tensor, problem: _Problem,
            events: tuple[int, int], shrink: int, lr: float, seconds: float,
            noise: list[torch.Tensor]) -> dict[str, Any]:
    """The history record of stage ``k`` (see :func:`fit_sem`)."""
    R, score = problem.R, problem.score
    if score == "me":
        value = float(me_score(R.double(), W.double(), *(v.double() for v in noise))[0])
    else:
        shift = None if problem.shift is None else ShiftTerm(*(t.double() if t.is_floating_point()
                                                                else t for t in problem.shift))
        value = float(sem_score(R.double(), W.double(), score, shift)[0])
    h = float(h_dagma(W.double().cpu(), s))
    l1_norm = float(W.abs().sum())
    hinge = (_margin_gradient(W, problem.src, problem.dst, problem.margin)[0]
             if problem.src is not None else 0.0)
    return {
        "stage": k, "mu": mu, "s": s, "iterations": n_iter,
        "objective": mu * (value + problem.l1 * l1_norm + problem.lambda_prior * hinge) + h,
        "score": value, "l1_norm": l1_norm, "h": h,
        "spectral_radius": spectral_radius(W.cpu()), "guard_events": events[0],
        "nonfinite_events": events[1], "shrink_steps": shrink, "lr_final": lr,
        "prior_hinge": hinge, "seconds": seconds,
    }
