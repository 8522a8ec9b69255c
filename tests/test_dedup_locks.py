"""Near-duplicate linking on PostgreSQL locks band keys, not the whole cluster: ingests of
unrelated articles proceed side by side, ingests that may link wait for each other."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from govarchive.storage import ArticleIn, Store
from govarchive.storage.duplicates import refresh_duplicates
from tests.builders import T0, FakeCrawl, article_fields

MIRROR = ("北京市发展改革委出台优化营商环境若干措施，进一步优化办事流程，切实减轻企业和群众负担。"
          "今年计划完成一百二十个项目，确保各项任务落到实处。")
OTHER = ("上海市住房城乡建设管理委启动城市更新试点工作，计划完成三千五百个项目，"
         "及时回应群众关切，做好政策解读和宣传引导。")


@pytest.fixture
def pg_store(store):
    if store._engine.dialect.name != "postgresql":
        pytest.skip("the band locks are PostgreSQL's (SQLite has one writer at a time anyway)")
    return store


def _articles(store: Store, bodies: list[str]) -> list[int]:
    crawl = FakeCrawl(store)
    captures, items = [], []
    for n, body in enumerate(bodies):
        url = f"https://www.gov.cn/x/content_{n}.htm"
        capture = crawl.capture(url, T0 + timedelta(minutes=n))
        captures.append(capture)
        # Stored with a signature too short to link: the test links them itself below.
        items.append(ArticleIn("govcn", url, [url], capture.record_id, capture.fetched_at,
                               article_fields(title=f"标题{n}", body_text=body), signature=[]))
    return store.ingest(captures, items).article_ids


def _link(conn: sa.Connection, article_id: int, body: str) -> None:
    refresh_duplicates(conn, [article_id], {article_id: (f"标题{article_id}", body)})


def _links(conn: sa.Connection) -> set[tuple[int, int]]:
    return set(conn.execute(sa.text("SELECT article_id, duplicate_id FROM article_duplicates")))


def test_unrelated_ingests_do_not_wait_related_ones_do(pg_store):
    first, unrelated, mirror = _articles(pg_store, [MIRROR, OTHER, MIRROR + "\n责任编辑：周暹"])
    engine = pg_store._engine
    with engine.connect() as holding, engine.connect() as other:
        holding.begin()
        _link(holding, first, MIRROR)  # holds its band locks until it commits
        with other.begin():
            other.execute(sa.text("SET lock_timeout = '1s'"))  # for the session
        with other.begin():
            _link(other, unrelated, OTHER)  # no shared band key: does not wait
        with pytest.raises(sa.exc.OperationalError, match="lock timeout"), other.begin():
            _link(other, mirror, MIRROR + "\n责任编辑：周暹")  # shares band keys: waits
        holding.commit()
        with other.begin():
            _link(other, mirror, MIRROR + "\n责任编辑：周暹")
        assert _links(other) == {(first, mirror)}
