"""The booking orchestration (DESIGN.md 3, layer 5): composes a booking with its checks
(the eligibility gate: findings, clinical holds, age, pre-screen, important dates), its course
re-plan and its messages in one transaction, on top of scheduling's public API."""
