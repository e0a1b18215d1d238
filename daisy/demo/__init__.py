"""The demo clinic (`daisy demo`, `daisy seed_demo`, `daisy demo_code`): it composes every app,
so, like settings.py and urls.py, it sits above the layers (DESIGN.md 3) and no app imports it."""
