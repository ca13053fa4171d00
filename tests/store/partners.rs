//! Partners and tokens: only a token's hash is stored; a token finds its actor.

use escalator::case::{Capabilities, EmailAddress};
use escalator::store::{NewPartner, Store, StoreError};
use escalator::workflow::{Actor, Role};

use crate::fixtures::*;

async fn a_partner_token_speaks_for_the_partner_with_its_capabilities(store: Store) {
    let partner = NewPartner {
        id: "pa".to_owned(),
        name: "Partner A".to_owned(),
        email: EmailAddress::parse("desk@pa.example", "email").unwrap(),
        capabilities: Capabilities {
            tooling: ["message-trace".to_owned()].into_iter().collect(),
            ..Capabilities::default()
        },
    };
    let (stored, token) = store.add_partner(&partner, t0()).await.unwrap();
    assert_eq!(stored.capabilities.id, "pa");
    let principal = store.actor_for_token(&token.token).await.unwrap().unwrap();
    assert_eq!(
        principal.actor,
        Actor::Partner {
            id: "pa".to_owned()
        }
    );
    assert!(principal
        .capabilities
        .unwrap()
        .tooling
        .contains("message-trace"));
    assert_eq!(
        store.actor_for_token("esc_not-a-token").await.unwrap(),
        None
    );
    assert_eq!(
        store
            .actor_for_token(&escalator::store::token_hash(&token.token))
            .await
            .unwrap(),
        None,
        "the hash is not the token"
    );

    let again = store.add_partner(&partner, t0()).await.unwrap_err();
    assert!(
        matches!(again, StoreError::PartnerExists { .. }),
        "{again:?}"
    );
}

async fn capabilities_are_replaced_and_partners_listed(store: Store) {
    add_partner(&store, "pb").await;
    add_partner(&store, "pa").await;
    let replaced = store
        .set_capabilities(
            "pa",
            &Capabilities {
                documentation: ["runbook".to_owned()].into_iter().collect(),
                ..Capabilities::default()
            },
            at(1),
        )
        .await
        .unwrap();
    assert!(replaced.capabilities.training.is_empty());
    assert!(replaced.capabilities.documentation.contains("runbook"));
    let ids: Vec<String> = store
        .list_partners()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, vec!["pa", "pb"]);
    let missing = store
        .set_capabilities("nobody", &Capabilities::default(), at(1))
        .await
        .unwrap_err();
    assert!(matches!(
        missing,
        StoreError::NotFound {
            what: "partner",
            ..
        }
    ));
}

async fn vianet_and_admin_tokens_name_their_holder(store: Store) {
    let vianet = store
        .add_token(Role::Vianet, None, "desk-1", t0())
        .await
        .unwrap();
    let admin = store
        .add_token(Role::Admin, None, "ops", t0())
        .await
        .unwrap();
    assert_ne!(vianet.token, admin.token);
    assert_eq!(
        store
            .actor_for_token(&vianet.token)
            .await
            .unwrap()
            .unwrap()
            .actor,
        Actor::Vianet {
            id: "desk-1".to_owned()
        }
    );
    assert_eq!(
        store
            .actor_for_token(&admin.token)
            .await
            .unwrap()
            .unwrap()
            .actor,
        Actor::Admin {
            id: "ops".to_owned()
        }
    );
    let invalid = store
        .add_token(Role::Vianet, None, "  ", t0())
        .await
        .unwrap_err();
    assert!(matches!(invalid, StoreError::Invalid { field: "name", .. }));
    let bad_id = NewPartner {
        id: "Has Space".to_owned(),
        name: "x".to_owned(),
        email: EmailAddress::parse("x@x.example", "email").unwrap(),
        capabilities: Capabilities::default(),
    };
    assert!(matches!(
        store.add_partner(&bad_id, t0()).await,
        Err(StoreError::Invalid { field: "id", .. })
    ));
}

contract_tests!(
    a_partner_token_speaks_for_the_partner_with_its_capabilities,
    capabilities_are_replaced_and_partners_listed,
    vianet_and_admin_tokens_name_their_holder,
);
