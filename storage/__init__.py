"""SQL storage (SQLAlchemy 2.x): users, conversation state and log, quizzes, reviews, certificates."""
