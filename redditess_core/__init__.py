"""The RedditESS kit's shared core: what every package of the kit imports and what imports nothing of the kit.

It holds one definition of each shared concept (the data contract, the prompts and the system-turn policy,
the dataset loader, the crisis screen, the text encoder). `dataset_builder`, `training`, `eval`, `cards`,
`publish` and `assist` import from here; this package never imports any of them (pinned by
`tests/test_import_graph.py`).

Why the name: a top-level package named `redditess` would shadow a local dataset folder of the same name in
`load_dataset("redditess")` run from the repository root, and generic names (`safety`, `core`) collide with
other distributions in site-packages.
"""
