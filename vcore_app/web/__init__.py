"""HTTP surface: the route list, JSON handlers (api/), HTML handlers (pages/), middleware."""
