"""The live dashboard: state model (pure), topic feed, Sanic app and page."""

from cta.dashboard.app import create_app, serve
from cta.dashboard.feed import DashboardFeed
from cta.dashboard.state import LINE_COLORS, DashboardState

__all__ = ["LINE_COLORS", "DashboardFeed", "DashboardState", "create_app", "serve"]
