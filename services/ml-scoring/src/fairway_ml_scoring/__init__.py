"""Fairway ml-scoring service: Engagement, churn risk, predicted lifetime value and send-time profiles."""
