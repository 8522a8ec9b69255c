"""Local test sites for crawl tests and benchmarks: fixture folders, a server, a bulk section.

``SiteServer`` (tests.site.server) serves one site on its own port; ``BulkSite``
(tests.site.bulk) generates a large section; the fixtures are in tests.site.plugin.
"""
