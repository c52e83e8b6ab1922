"""Billing: CDRs, payments through Stripe, refunds, receipts."""
