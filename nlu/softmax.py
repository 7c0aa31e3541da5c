"""Softmax regression in NumPy: the embedded engine's intent classifier and the Rasa pipeline's
out-of-scope gate (nlu/rasa_components/out_of_scope_gate.py) train with it.

NumPy only, and nothing newer than Python 3.10 and NumPy 1.23: Rasa's environment imports it too.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]

EPOCHS = 300
LEARNING_RATE = 0.2


def softmax(logits: Matrix) -> Matrix:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    result: Matrix = exp / exp.sum(axis=-1, keepdims=True)
    return result


def train_softmax_regression(features: Matrix, labels: npt.NDArray[np.int64], classes: int) -> tuple[Matrix, Matrix]:
    """Full-batch softmax regression with Adam, no regularisation: confident on the fixed chat phrases,
    deterministic, about a second on ~750 examples. Returns (weights, bias)."""
    n, d = features.shape
    weights = np.zeros((d, classes), dtype=np.float32)
    bias = np.zeros(classes, dtype=np.float32)
    target = np.zeros((n, classes), dtype=np.float32)
    target[np.arange(n), labels] = 1.0
    # Balance classes so the large ask_question and out_of_scope sets do not swamp short intents.
    counts = np.bincount(labels, minlength=classes).astype(np.float32)
    sample_weight = (n / (classes * counts[labels]))[:, None].astype(np.float32)
    m_w, v_w = np.zeros_like(weights), np.zeros_like(weights)
    m_b, v_b = np.zeros_like(bias), np.zeros_like(bias)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, EPOCHS + 1):
        probs = softmax(features @ weights + bias)
        error = (probs - target) * sample_weight / n
        grad_w = features.T @ error
        grad_b = error.sum(axis=0)
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w * grad_w
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b * grad_b
        correction1 = 1 - beta1**step
        correction2 = 1 - beta2**step
        weights -= LEARNING_RATE * (m_w / correction1) / (np.sqrt(v_w / correction2) + eps)
        bias -= LEARNING_RATE * (m_b / correction1) / (np.sqrt(v_b / correction2) + eps)
    return weights.astype(np.float32), bias.astype(np.float32)
