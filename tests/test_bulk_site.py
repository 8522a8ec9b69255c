"""The benchmark's bulk section: pages made ahead equal pages made on request, and its
articles are as unalike as a real section's, reposts apart."""

from __future__ import annotations

from govarchive.storage import article_signature
from govarchive.storage.signatures import THRESHOLD, band_keys, similarity
from tests.site.bulk import REPOST_EVERY, BulkSite


def test_prerendered_pages_are_the_pages_made_on_request():
    fresh, ready = BulkSite(60), BulkSite(60)
    ready.render_all()
    paths = [fresh.list_path(p) for p in range(fresh.page_count)]
    paths += [fresh.article_path(i) for i in range(fresh.count)]
    for path in paths:
        assert ready.respond(path).body == fresh.respond(path).body, path
        assert ready.respond(path).content_type == fresh.respond(path).content_type
    assert ready.respond("/robots.txt").status == 200
    assert ready.respond("/lianbo/bulk/202406/content_1.htm").status == 404


def page_signature(site: BulkSite, index: int) -> list[int]:
    return article_signature(site.meta(index)["title"], "\n".join(site.paragraphs(index)))


def test_only_reposts_are_near_duplicates():
    site = BulkSite(2 * REPOST_EVERY)
    signatures = [page_signature(site, i) for i in range(site.count)]
    reposts = [i for i in range(site.count) if site.is_repost(i)]
    assert reposts == [REPOST_EVERY // 2, REPOST_EVERY + REPOST_EVERY // 2]
    for i in reposts:
        assert similarity(signatures[i], signatures[i + 1]) >= THRESHOLD
        assert site.meta(i)["title"] != site.meta(i + 1)["title"]
    # Unrelated articles share few shingles: at most a band key by chance, never a link.
    shared_bands = 0
    for i in range(site.count):
        for j in range(i + 1, site.count):
            if site.is_repost(i) and j == i + 1:
                continue
            assert similarity(signatures[i], signatures[j]) < 0.5
            shared_bands += bool(set(band_keys(signatures[i]))
                                 & set(band_keys(signatures[j])))
    assert shared_bands <= 2
