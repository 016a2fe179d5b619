-- The support-seeking rule (dataset_builder/support.py holds the reasons, their order and the regexes,
-- bound as $parameters): one support_reason per kept post, the first that applies.
CREATE TABLE post_support AS
WITH texts AS (
    SELECT
        post_id,
        coalesce(selftext, '') AS raw_text,
        -- curly apostrophes as straight ones: the patterns spell "what's", "y'all", "i'm"
        lower(translate(coalesce(title, ''), '’‘', '''''')) AS low_title,
        lower(translate(coalesce(selftext, ''), '’‘', '''''')) AS low_text
    FROM kept_posts
),
measured AS (
    SELECT
        post_id,
        low_title,
        low_text,
        low_title || chr(10) || low_text AS whole,
        strpos(low_title, '?') > 0 AS title_asks,
        -- characters left once URLs and markdown punctuation are removed, a markdown link counting as its
        -- text: the text's non-markdown characters, minus those of every URL/link match, plus those of each
        -- link's text (group 2). The markdown pattern removes single characters, so the counts add up; a
        -- replacement with a backreference would need '\2' in DuckDB and '$2' in Spark. DuckDB joins a list of
        -- only NULLs (a URL match has no group 2) as NULL, hence the coalesce.
        CAST(length(regexp_replace(raw_text, $markdown, '', 'g')) AS BIGINT)
        - CAST(length(regexp_replace(coalesce(array_to_string(regexp_extract_all(raw_text, $url, 0), ''), ''),
            $markdown, '', 'g')) AS BIGINT)
        + CAST(length(regexp_replace(coalesce(array_to_string(regexp_extract_all(raw_text, $url, 2), ''), ''),
            $markdown, '', 'g')) AS BIGINT)
            AS stripped_chars
    FROM texts
),
reasons AS (
    SELECT
        post_id,
        CASE
            WHEN stripped_chars < $min_text_chars THEN 'link_or_media_only'
            WHEN regexp_matches(low_title, $megathread) THEN 'megathread'
            WHEN regexp_matches(low_title, $poll_title) OR regexp_matches(low_text, $poll_text) THEN 'poll_or_survey'
            WHEN regexp_matches(low_title, $share_prompt) THEN 'share_prompt'
            WHEN regexp_matches(low_title, $announcement)
                OR (regexp_matches(low_title, $community_address) AND NOT title_asks) THEN 'announcement'
            WHEN regexp_matches(low_title, $meme) THEN 'meme'
            WHEN regexp_matches(whole, $discussion) AND NOT regexp_matches(whole, $own_request)
                THEN 'discussion_prompt'
            WHEN regexp_matches(whole, $help_request) THEN 'asks_for_help'
            WHEN regexp_matches(low_title, $celebration) AND NOT title_asks THEN 'celebration'
            WHEN regexp_matches(low_title, $guide) AND NOT title_asks AND NOT regexp_matches(low_title, $vent)
                AND (regexp_matches(low_text, $sharing) OR strpos(low_text, '?') = 0) THEN 'guide_or_resource'
            WHEN regexp_matches(whole, $distress) OR regexp_matches(low_title, $vent) THEN 'expresses_distress'
            WHEN strpos(whole, '?') > 0 AND regexp_matches(whole, $first_person) THEN 'asks_question'
            WHEN strpos(whole, '?') > 0 THEN 'impersonal_question'
            ELSE 'no_request_or_distress'
        END AS support_reason
    FROM measured
)
SELECT post_id, support_reason IN ($seeking_reasons) AS seeks_support, support_reason
FROM reasons;
