from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = _("Portfolio")

    def ready(self) -> None:
        from lending.close_of_business.registry import register_step
        from portfolio.services import portfolio_snapshot

        # Last of the night, book-level: the picture of the book once every other step
        # (flagging, accrual, collections, limit reviews) has moved it.
        register_step("portfolio_snapshot", portfolio_snapshot, position=900, chunked=False)
