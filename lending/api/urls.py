from django.urls import path

import config.api.converters  # noqa: F401 - registers <id:...>
from lending.api import borrowers, close_of_business, loans, operations, products

LOAN = "loans/<str:reference>/"

urlpatterns = [
    path("borrowers/", borrowers.BorrowerList.as_view(), name="borrower-list"),
    path("borrowers/<id:pk>/", borrowers.BorrowerDetail.as_view(), name="borrower-detail"),
    path("borrowers/<id:pk>/reveal/", borrowers.BorrowerReveal.as_view(), name="borrower-reveal"),
    path(
        "borrowers/<id:pk>/emergency-contacts/",
        borrowers.EmergencyContacts.as_view(),
        name="borrower-contacts",
    ),
    path(
        "borrowers/<id:pk>/emergency-contacts/<id:contact_id>/",
        borrowers.EmergencyContactDetail.as_view(),
        name="borrower-contact-detail",
    ),
    path("products/", products.ProductList.as_view(), name="product-list"),
    path("products/<slug:code>/", products.ProductDetail.as_view(), name="product-detail"),
    path("quotes/", products.Quote.as_view(), name="quote"),
    path("loans/", loans.LoanList.as_view(), name="loan-list"),
    path(LOAN, loans.LoanDetail.as_view(), name="loan-detail"),
    path(LOAN + "schedule/", loans.LoanSchedule.as_view(), name="loan-schedule"),
    path(LOAN + "transactions/", loans.LoanTransactions.as_view(), name="loan-transactions"),
    path(LOAN + "payoff/", loans.Payoff.as_view(), name="loan-payoff"),
    path(LOAN + "cancel/", operations.Cancel.as_view(), name="loan-cancel"),
    path(LOAN + "disburse/", operations.Disburse.as_view(), name="loan-disburse"),
    path(LOAN + "repayments/", operations.Repayment.as_view(), name="loan-repayments"),
    path(
        LOAN + "transactions/<id:transaction_id>/reverse/",
        operations.Reverse.as_view(),
        name="loan-reverse",
    ),
    path(LOAN + "write-off/", operations.WriteOff.as_view(), name="loan-write-off"),
    path(LOAN + "credit/refund/", operations.CreditRefund.as_view(), name="loan-credit-refund"),
    path("close-of-business/runs/", close_of_business.Runs.as_view(), name="cob-runs"),
    path(
        "close-of-business/runs/<str:business_date>/",
        close_of_business.RunDetail.as_view(),
        name="cob-run-detail",
    ),
]
