import numpy as np


class Network:
    """784-64-10, tanh then softmax; examples are the rows of X, y holds class labels."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W1": rng.normal(0, 0.05, (784, 64)), "b1": np.zeros(64),
                       "W2": rng.normal(0, 0.1, (64, 10)), "b2": np.zeros(10)}

    def forward(self, X):
        p = self.params
        H = np.tanh(X @ p["W1"] + p["b1"])
        Z = H @ p["W2"] + p["b2"]
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return H, E / E.sum(axis=1, keepdims=True)

    def loss(self, X, y):                        # mean cross-entropy over the batch
        _, P = self.forward(X)
        return -np.mean(np.log(P[np.arange(len(y)), y]))

    def gradients(self, X, y):
        m = len(y)
        H, P = self.forward(X)
        dZ = P.copy()
        dZ[np.arange(m), y] -= 1                 # dL/dZ times m
        dH = dZ @ self.params["W2"].T * (1 - H ** 2)
        return {"W1": X.T @ dH / m, "b1": dH.sum(axis=0) / m,
                "W2": H.T @ dZ / m, "b2": dZ.sum(axis=0)}   # the bug: b2 without / m


target = Network()
