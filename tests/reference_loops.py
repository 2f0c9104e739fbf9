"""A training loop written directly with the teaching backward pass of
:class:`utils.nets.numpy_mlp.MLP`, one network, one step at a time: the reference that
the book's one NumPy loop (:func:`utils.nets.numpy_stack.train`) is tested against."""

from __future__ import annotations


def sgd_reference(net, X, y, *, lr, epochs, batch_size, rng, X_val=None, y_val=None):
    """Train ``net`` in place with plain minibatch SGD; per-epoch losses (index 0 =
    before training) as a dict of lists."""
    record = {"train_loss": [net.loss(X, y)], "val_loss": [], "val_accuracy": []}
    if X_val is not None:
        record["val_loss"].append(net.loss(X_val, y_val))
        record["val_accuracy"].append(net.accuracy(X_val, y_val))
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            _, grads = net.loss_and_gradients(X[idx], y[idx])
            for layer, (grad_w, grad_b) in enumerate(grads):
                net.weights[layer] -= lr * grad_w
                net.biases[layer] -= lr * grad_b
        record["train_loss"].append(net.loss(X, y))
        if X_val is not None:
            record["val_loss"].append(net.loss(X_val, y_val))
            record["val_accuracy"].append(net.accuracy(X_val, y_val))
    return record
