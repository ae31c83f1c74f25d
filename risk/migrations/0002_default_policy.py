"""Version 1 of the credit policy, active from the start, so underwriting works on day one.

The definition is a copy of risk.policy.DEFAULT_POLICY as it was when this migration was written
(later edits to the default must not rewrite history); risk staff version it in the admin.
"""

import json

from django.db import migrations

DEFINITION = json.loads(
    r"""
{
    "hard_rules": {
        "min_age": 18,
        "max_age": 60,
        "max_inquiries_6m": 6,
        "decline_blacklisted": true,
        "decline_currently_overdue": true,
        "refer_income_unverified": true,
        "refer_if_missing": [
            "bureau_score"
        ]
    },
    "scorecard": {
        "base_points": 600,
        "characteristics": [
            {
                "attribute": "bureau_score",
                "label": "credit bureau score",
                "missing_points": -20,
                "bands": [
                    {
                        "min": null,
                        "max": 549,
                        "points": -60
                    },
                    {
                        "min": 550,
                        "max": 649,
                        "points": -10
                    },
                    {
                        "min": 650,
                        "max": 699,
                        "points": 25
                    },
                    {
                        "min": 700,
                        "max": null,
                        "points": 50
                    }
                ]
            },
            {
                "attribute": "age",
                "missing_points": 0,
                "bands": [
                    {
                        "min": null,
                        "max": 21,
                        "points": -10
                    },
                    {
                        "min": 22,
                        "max": 25,
                        "points": 0
                    },
                    {
                        "min": 26,
                        "max": 45,
                        "points": 15
                    },
                    {
                        "min": 46,
                        "max": null,
                        "points": 5
                    }
                ]
            },
            {
                "attribute": "bureau_inquiries_6m",
                "missing_points": -10,
                "bands": [
                    {
                        "min": null,
                        "max": 1,
                        "points": 20
                    },
                    {
                        "min": 2,
                        "max": 3,
                        "points": 0
                    },
                    {
                        "min": 4,
                        "max": null,
                        "points": -25
                    }
                ]
            },
            {
                "attribute": "bureau_worst_delinquency_days",
                "missing_points": 0,
                "bands": [
                    {
                        "min": null,
                        "max": 0,
                        "points": 20
                    },
                    {
                        "min": 1,
                        "max": 30,
                        "points": -10
                    },
                    {
                        "min": 31,
                        "max": 89,
                        "points": -40
                    },
                    {
                        "min": 90,
                        "max": null,
                        "points": -80
                    }
                ]
            },
            {
                "attribute": "employment_months",
                "missing_points": -10,
                "bands": [
                    {
                        "min": null,
                        "max": 5,
                        "points": -15
                    },
                    {
                        "min": 6,
                        "max": 23,
                        "points": 0
                    },
                    {
                        "min": 24,
                        "max": null,
                        "points": 15
                    }
                ]
            },
            {
                "attribute": "platform_worst_dpd",
                "missing_points": 0,
                "bands": [
                    {
                        "min": null,
                        "max": 0,
                        "points": 10
                    },
                    {
                        "min": 1,
                        "max": 7,
                        "points": -5
                    },
                    {
                        "min": 8,
                        "max": 30,
                        "points": -30
                    },
                    {
                        "min": 31,
                        "max": null,
                        "points": -70
                    }
                ]
            },
            {
                "attribute": "platform_on_time_ratio",
                "missing_points": 0,
                "bands": [
                    {
                        "min": null,
                        "max": "0.80",
                        "points": -40
                    },
                    {
                        "min": "0.80",
                        "max": "0.95",
                        "points": -10
                    },
                    {
                        "min": "0.95",
                        "max": null,
                        "points": 20
                    }
                ]
            },
            {
                "attribute": "debt_to_income",
                "missing_points": -10,
                "bands": [
                    {
                        "min": null,
                        "max": "0.20",
                        "points": 20
                    },
                    {
                        "min": "0.20",
                        "max": "0.40",
                        "points": 5
                    },
                    {
                        "min": "0.40",
                        "max": "0.60",
                        "points": -20
                    },
                    {
                        "min": "0.60",
                        "max": null,
                        "points": -50
                    }
                ]
            },
            {
                "attribute": "monthly_income",
                "missing_points": -20,
                "bands": [
                    {
                        "min": null,
                        "max": "3000",
                        "points": -20
                    },
                    {
                        "min": "3000",
                        "max": "8000",
                        "points": 0
                    },
                    {
                        "min": "8000",
                        "max": "20000",
                        "points": 15
                    },
                    {
                        "min": "20000",
                        "max": null,
                        "points": 25
                    }
                ]
            },
            {
                "attribute": "employment_type",
                "missing_points": -10,
                "categories": {
                    "salaried": 30,
                    "self_employed": 10,
                    "gig": 0,
                    "retired": 10,
                    "student": -30,
                    "unemployed": -60
                }
            }
        ]
    },
    "grades": [
        {
            "grade": "A",
            "min_score": 720
        },
        {
            "grade": "B",
            "min_score": 680
        },
        {
            "grade": "C",
            "min_score": 640
        },
        {
            "grade": "D",
            "min_score": 600
        },
        {
            "grade": "E",
            "min_score": null
        }
    ],
    "limits": {
        "A": {
            "income_multiple": "6",
            "dti_ceiling": "0.50",
            "min_limit": "1000",
            "max_limit": "200000"
        },
        "B": {
            "income_multiple": "5",
            "dti_ceiling": "0.50",
            "min_limit": "1000",
            "max_limit": "100000"
        },
        "C": {
            "income_multiple": "4",
            "dti_ceiling": "0.45",
            "min_limit": "1000",
            "max_limit": "50000"
        },
        "D": {
            "income_multiple": "3",
            "dti_ceiling": "0.40",
            "min_limit": "1000",
            "max_limit": "20000"
        },
        "E": {
            "income_multiple": "0",
            "dti_ceiling": "0.30",
            "min_limit": "0",
            "max_limit": "0"
        }
    },
    "outcomes": {
        "approve": [
            "A",
            "B",
            "C"
        ],
        "refer": [
            "D"
        ],
        "decline": [
            "E"
        ]
    },
    "rounding": "100"
}
"""
)


def seed(apps, schema_editor):
    CreditPolicy = apps.get_model("risk", "CreditPolicy")
    if not CreditPolicy.objects.exists():
        CreditPolicy.objects.create(
            version=1,
            name="Default policy",
            status="active",
            definition=DEFINITION,
            notes="Seeded by migration; copy it to a new version to change it.",
        )


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
