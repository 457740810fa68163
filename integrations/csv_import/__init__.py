"""CSV exports of small practice-management systems (TherapyNotes-style, SimplePractice-style)."""
