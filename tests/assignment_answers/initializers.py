"""Plausible wrong answers to the assignment `initializers`, graded by tests/test_assignments.py.

Each is the code a student writes in one solution cell of an otherwise correct submission,
and the test cells that must lose all their points because of it (every other test cell
keeps its points).
"""

from ._wrong import wrong

# preactivation_stds is used by measure_ratios, so a mistake in it also costs
# test_measurement
STDS = ("test_stds", "test_measurement")

ANSWERS = [
    # Part 1: the initializers
    wrong("lecun-uniform-limit-3-over-fan-in", "lecun", """
        def lecun_normal(fan_in, fan_out, rng):
            return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))

        def lecun_uniform(fan_in, fan_out, rng):
            limit = 3.0 / fan_in
            return rng.uniform(-limit, limit, size=(fan_in, fan_out))
        """, "test_lecun"),
    wrong("lecun-uniform-limit-sqrt-6-over-fan-in", "lecun", """
        def lecun_normal(fan_in, fan_out, rng):
            return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))

        def lecun_uniform(fan_in, fan_out, rng):
            limit = np.sqrt(6.0 / fan_in)
            return rng.uniform(-limit, limit, size=(fan_in, fan_out))
        """, "test_lecun"),
    wrong("lecun-fresh-generator-ignores-rng", "lecun", """
        def lecun_normal(fan_in, fan_out, rng):
            rng = np.random.default_rng()
            return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))

        def lecun_uniform(fan_in, fan_out, rng):
            limit = np.sqrt(3.0 / fan_in)
            return rng.uniform(-limit, limit, size=(fan_in, fan_out))
        """, "test_rng"),
    wrong("glorot-uses-fan-in-only", "glorot", """
        def glorot_normal(fan_in, fan_out, rng):
            return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))

        def glorot_uniform(fan_in, fan_out, rng):
            limit = np.sqrt(3.0 / fan_in)
            return rng.uniform(-limit, limit, size=(fan_in, fan_out))
        """, "test_glorot"),
    wrong("glorot-normal-std-is-the-variance", "glorot", """
        def glorot_normal(fan_in, fan_out, rng):
            return rng.normal(0.0, 2.0 / (fan_in + fan_out), size=(fan_in, fan_out))

        def glorot_uniform(fan_in, fan_out, rng):
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            return rng.uniform(-limit, limit, size=(fan_in, fan_out))
        """, "test_glorot"),
    wrong("glorot-truncated-normal-not-rescaled", "glorot", """
        def glorot_normal(fan_in, fan_out, rng):
            std = np.sqrt(2.0 / (fan_in + fan_out))
            w = rng.normal(0.0, std, size=(fan_in, fan_out))
            bad = np.abs(w) > 2 * std
            while bad.any():  # redraw beyond two standard deviations, as Keras does
                w[bad] = rng.normal(0.0, std, size=int(bad.sum()))
                bad = np.abs(w) > 2 * std
            return w

        def glorot_uniform(fan_in, fan_out, rng):
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            return rng.uniform(-limit, limit, size=(fan_in, fan_out))
        """, "test_glorot"),
    wrong("glorot-delegates-to-variance-scaling", "glorot", """
        from utils.initializers import variance_scaling

        def glorot_normal(fan_in, fan_out, rng):
            return variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_avg")

        def glorot_uniform(fan_in, fan_out, rng):
            return variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_avg",
                                    distribution="uniform")
        """, "test_glorot", "test_rng"),
    wrong("he-uniform-limit-is-the-std", "he", """
        def he_normal(fan_in, fan_out, rng):
            return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))

        def he_uniform(fan_in, fan_out, rng):
            limit = np.sqrt(2.0 / fan_in)
            return rng.uniform(-limit, limit, size=(fan_in, fan_out))
        """, "test_he"),
    wrong("he-draws-from-global-np-random", "he", """
        def he_normal(fan_in, fan_out, rng):
            return np.random.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))

        def he_uniform(fan_in, fan_out, rng):
            limit = np.sqrt(6.0 / fan_in)
            return np.random.uniform(-limit, limit, size=(fan_in, fan_out))
        """, "test_rng"),
    wrong("he-uses-fan-out", "he", """
        def he_normal(fan_in, fan_out, rng):
            return rng.normal(0.0, np.sqrt(2.0 / fan_out), size=(fan_in, fan_out))

        def he_uniform(fan_in, fan_out, rng):
            limit = np.sqrt(6.0 / fan_out)
            return rng.uniform(-limit, limit, size=(fan_in, fan_out))
        """, "test_he"),
    wrong("he-normal-truncated-and-rescaled", "he", """
        def he_normal(fan_in, fan_out, rng):
            std = np.sqrt(2.0 / fan_in) / 0.87962566103423978
            w = rng.normal(0.0, std, size=(fan_in, fan_out))
            bad = np.abs(w) > 2 * std
            while bad.any():
                w[bad] = rng.normal(0.0, std, size=int(bad.sum()))
                bad = np.abs(w) > 2 * std
            return w

        def he_uniform(fan_in, fan_out, rng):
            limit = np.sqrt(6.0 / fan_in)
            return rng.uniform(-limit, limit, size=(fan_in, fan_out))
        """, "test_he"),
    wrong("he-delegates-to-utils", "he", """
        from utils.initializers import he_normal, he_uniform
        """, "test_he", "test_rng"),

    # Part 2: the pre-activation spread
    wrong("stds-of-the-activations-not-pre-activations", "stds", """
        def relu(z):
            return np.maximum(z, 0.0)

        def preactivation_stds(X, init, activation, depth, width, rng):
            stds, h = [], X
            for _ in range(depth):
                h = activation(h @ init(h.shape[1], width, rng))
                stds.append(h.std())
            return np.array(stds)
        """, *STDS),
    wrong("stds-one-weight-matrix-for-all-hidden-layers", "stds", """
        def relu(z):
            return np.maximum(z, 0.0)

        def preactivation_stds(X, init, activation, depth, width, rng):
            W_first = init(X.shape[1], width, rng)
            W = init(width, width, rng)
            stds, h = [], X
            for layer in range(depth):
                z = h @ (W_first if layer == 0 else W)
                stds.append(z.std())
                h = activation(z)
            return np.array(stds)
        """, *STDS),
    wrong("stds-including-the-input", "stds", """
        def relu(z):
            return np.maximum(z, 0.0)

        def preactivation_stds(X, init, activation, depth, width, rng):
            stds, h = [X.std()], X
            for _ in range(depth):
                z = h @ init(h.shape[1], width, rng)
                stds.append(z.std())
                h = activation(z)
            return np.array(stds)
        """, *STDS),
    wrong("stds-first-layer-fan-in-is-the-width", "stds", """
        def relu(z):
            return np.maximum(z, 0.0)

        def preactivation_stds(X, init, activation, depth, width, rng):
            stds, h = [], X
            for _ in range(depth):
                z = h @ init(width, width, rng)
                stds.append(z.std())
                h = activation(z)
            return np.array(stds)
        """, "test_stds"),
    wrong("stds-mean-of-per-unit-stds", "stds", """
        def relu(z):
            return np.maximum(z, 0.0)

        def preactivation_stds(X, init, activation, depth, width, rng):
            stds, h = [], X
            for _ in range(depth):
                z = h @ init(h.shape[1], width, rng)
                stds.append(z.std(axis=0).mean())
                h = activation(z)
            return np.array(stds)
        """, *STDS),
    wrong("stds-delegates-to-the-book-mlp", "stds", """
        from utils.activations import Activation
        from utils.nets.numpy_mlp import MLP

        def relu(z):
            return np.maximum(z, 0.0)

        def preactivation_stds(X, init, activation, depth, width, rng):
            f = Activation("f", activation, activation)
            net = MLP.create([X.shape[1]] + [width] * depth, f, rng, init)
            _, cache = net.forward(X)
            return np.array([z.std() for _, z in cache])
        """, *STDS),

    # Part 3: predict, measure, explain
    wrong("prediction-variance-ratio-not-std-ratio", "prediction", """
        PREDICTED_RATIO = {"he_normal": 1.0, "lecun_normal": 2 ** -10, "glorot_normal": 2 ** -10}
        """, "test_predict_ratio"),
    wrong("prediction-glorot-keeps-the-scale", "prediction", """
        PREDICTED_RATIO = {"he_normal": 1.0, "lecun_normal": 2 ** -5, "glorot_normal": 1.0}
        """, "test_predict_ratio"),
    wrong("prediction-one-layer-not-ten", "prediction", """
        PREDICTED_RATIO = {"he_normal": 1.0, "lecun_normal": 2 ** -0.5,
                           "glorot_normal": 2 ** -0.5}
        """, "test_predict_ratio"),
    wrong("prediction-he-doubles-lecun-keeps", "prediction", """
        PREDICTED_RATIO = {"he_normal": 2 ** 5, "lecun_normal": 1.0, "glorot_normal": 1.0}
        """, "test_predict_ratio"),
    wrong("measure-one-generator-for-all-inits", "measurement", """
        def measure_ratios(X, inits, depth, width, seed, low, high):
            rng, ratios = np.random.default_rng(seed), {}
            for name, init in inits.items():
                stds = preactivation_stds(X, init, relu, depth, width, rng)
                ratios[name] = float(stds[high - 1] / stds[low - 1])
            return ratios
        """, "test_measurement"),
    wrong("measure-ratio-upside-down", "measurement", """
        def measure_ratios(X, inits, depth, width, seed, low, high):
            ratios = {}
            for name, init in inits.items():
                stds = preactivation_stds(X, init, relu, depth, width,
                                          np.random.default_rng(seed))
                ratios[name] = float(stds[low - 1] / stds[high - 1])
            return ratios
        """, "test_measurement"),
    wrong("measure-layers-counted-from-zero", "measurement", """
        def measure_ratios(X, inits, depth, width, seed, low, high):
            ratios = {}
            for name, init in inits.items():
                stds = preactivation_stds(X, init, relu, depth, width,
                                          np.random.default_rng(seed))
                ratios[name] = float(stds[min(high, depth - 1)] / stds[low])
            return ratios
        """, "test_measurement"),
    wrong("measure-delegates-to-the-book-mlp", "measurement", """
        from utils.nets.numpy_mlp import MLP

        def measure_ratios(X, inits, depth, width, seed, low, high):
            ratios = {}
            for name, init in inits.items():
                net = MLP.create([X.shape[1]] + [width] * depth, "relu",
                                 np.random.default_rng(seed), init)
                stds = [z.std() for _, z in net.forward(X)[1]]
                ratios[name] = float(stds[high - 1] / stds[low - 1])
            return ratios
        """, "test_measurement"),
    wrong("why-exact-also-law-of-large-numbers", "why_exact", """
        WHY_EXACT = {"A", "B", "C"}
        """, "test_why_exact"),
    wrong("why-exact-homogeneity-alone", "why_exact", """
        WHY_EXACT = {"C"}
        """, "test_why_exact"),
    wrong("why-exact-a-lucky-seed", "why_exact", """
        WHY_EXACT = {"C", "D", "E"}
        """, "test_why_exact"),

    # Part 4: choose the initializer
    wrong("choice-he-for-selu", "choices", """
        CHOICES = {"relu": "he", "leaky_relu": "he", "tanh": "glorot", "selu": "he"}
        """, "test_why_choices"),
    wrong("choice-he-for-tanh", "choices", """
        CHOICES = {"relu": "he", "leaky_relu": "he", "tanh": "he", "selu": "lecun"}
        """, "test_why_choices"),
    wrong("choice-glorot-for-leaky-relu", "choices", """
        CHOICES = {"relu": "he", "leaky_relu": "glorot", "tanh": "glorot", "selu": "lecun"}
        """, "test_why_choices"),
    wrong("choices-from-the-book-gains", "choices", """
        from utils.initializers import calculate_gain

        # gains above 1 (relu, leaky_relu, tanh's 5/3) mean He, the others LeCun
        CHOICES = {act: "he" if calculate_gain(act) > 1 else "lecun"
                   for act in ("relu", "leaky_relu", "tanh", "selu")}
        """, "test_why_choices"),
    wrong("why-tanh-derivative-below-one", "why_tanh", """
        WHY_TANH = {"A", "B", "F"}
        """, "test_why_tanh"),
    wrong("why-tanh-five-thirds-derived", "why_tanh", """
        WHY_TANH = {"A", "C", "D", "F"}
        """, "test_why_tanh"),
    wrong("why-tanh-gain-one-vanishes-geometrically", "why_tanh", """
        WHY_TANH = {"C", "E", "F"}
        """, "test_why_tanh"),
]

ALSO_RIGHT = [
    wrong("choice-lecun-for-tanh", "choices", """
        CHOICES = {"relu": "he", "leaky_relu": "he", "tanh": "lecun", "selu": "lecun"}
        """),
    wrong("initializers-from-standard-draws", {
        "he": """
            def he_normal(fan_in, fan_out, rng):
                return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)

            def he_uniform(fan_in, fan_out, rng):
                return (2 * rng.random((fan_in, fan_out)) - 1) * np.sqrt(6 / fan_in)
            """,
        "lecun": """
            def lecun_normal(fan_in, fan_out, rng):
                return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)

            def lecun_uniform(fan_in, fan_out, rng):
                a = (3 / fan_in) ** 0.5
                return a * rng.uniform(-1.0, 1.0, size=(fan_in, fan_out))
            """}, ""),
    wrong("measure-without-preactivation-stds", "measurement", """
        def measure_ratios(X, inits, depth, width, seed, low, high):
            out = {}
            for name, init in inits.items():
                rng, h, spread = np.random.default_rng(seed), X, {}
                for layer in range(1, depth + 1):
                    z = h @ init(h.shape[1], width, rng)
                    spread[layer] = np.std(z)
                    h = np.maximum(z, 0)
                out[name] = float(spread[high] / spread[low])
            return out
        """),
]
