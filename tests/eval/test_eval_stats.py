"""Intervals in eval.stats: the cluster bootstrap respects clustering (wider than a row bootstrap)."""

from __future__ import annotations

import numpy as np
import pytest

from eval.stats import bootstrap_mean_interval, bootstrap_over_clusters


def _clustered(n_clusters: int, per_cluster: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows that share their cluster's latent value: strong within-cluster correlation (ICC near 1)."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(0.0, 1.0, n_clusters)
    values = np.repeat(latent, per_cluster) + rng.normal(0.0, 0.1, n_clusters * per_cluster)
    return values, np.repeat(np.arange(n_clusters), per_cluster)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cluster_bootstrap_is_wider_than_row_bootstrap_on_clustered_data(seed: int) -> None:
    values, clusters = _clustered(20, 3, seed)
    row_low, row_high = bootstrap_mean_interval(values, seed=seed)
    low, high = bootstrap_over_clusters(values, clusters, seed=seed)
    assert low < values.mean() < high
    # 20 effective observations, not 60: the width should grow by about sqrt(3).
    ratio = (high - low) / (row_high - row_low)
    assert 1.4 < ratio < 2.2, ratio


def test_cluster_bootstrap_with_singleton_clusters_matches_the_row_bootstrap_width() -> None:
    values = np.random.default_rng(3).normal(size=200)
    low, high = bootstrap_over_clusters(values, list(range(200)), n_resamples=4000)
    row_low, row_high = bootstrap_mean_interval(values, n_resamples=4000)
    assert (high - low) == pytest.approx(row_high - row_low, rel=0.1)


def test_cluster_bootstrap_general_statistic_equals_mean_fast_path_and_is_seeded() -> None:
    values, clusters = _clustered(15, 4, seed=5)
    fast = bootstrap_over_clusters(values, clusters, seed=7)
    slow = bootstrap_over_clusters(values, clusters, statistic=lambda x: float(np.mean(x)), seed=7)
    assert fast == pytest.approx(slow)
    assert bootstrap_over_clusters(values, clusters, seed=7) == fast
    med = bootstrap_over_clusters(values, [str(c) for c in clusters], statistic=np.median)
    assert med[0] < np.median(values) < med[1]


def test_cluster_bootstrap_rejects_mismatched_lengths_and_handles_empty() -> None:
    with pytest.raises(ValueError, match="one per value"):
        bootstrap_over_clusters([1.0, 2.0], ["a"])
    low, high = bootstrap_over_clusters([], [])
    assert np.isnan(low) and np.isnan(high)
