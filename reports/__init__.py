"""Report generator (bonus points, feedback, class overview): see issue 5. Not built yet."""
