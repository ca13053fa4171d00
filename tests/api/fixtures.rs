//! Case bodies from the shipped policy's own tests.

use serde_json::{json, Value};

/// A mail flow case: escalates for a partner without transport training.
pub fn mail_flow(external_id: &str) -> Value {
    json!({
        "external_id": external_id,
        "customer": {"tenant": "contoso.partner.onmschina.cn", "name": "Contoso Ltd"},
        "product": "m365",
        "category": "mail_flow",
        "severity": "moderate",
        "subject": "Outbound mail to a supplier rejected with 550 5.7.1",
        "description": "Since Monday mail from Contoso to supplier.example is rejected with 550 5.7.1. Other destinations work.",
        "affected_users": 600
    })
}

/// Adding seats: the partner's own work (partner_working).
pub fn add_seats(external_id: &str) -> Value {
    json!({
        "external_id": external_id,
        "customer": {"tenant": "northwind.partner.onmschina.cn", "name": "Northwind Logistics Guangzhou"},
        "product": "m365",
        "category": "subscription_change",
        "severity": "minimal",
        "subject": "Add 50 seats to Office 365 E3",
        "description": "Northwind opens a new warehouse next month and needs 50 more E3 seats."
    })
}
