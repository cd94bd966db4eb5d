//! Demo accounts have a published password: they go into an empty database
//! only, never next to accounts of a real deployment.

use kc_app::auth::{Actor, DEMO_PASSWORD, UserSpec, verify_password};

#[tokio::test]
async fn demo_accounts_only_in_a_database_without_accounts() {
    // A fresh database gets every demo account, with no forced change.
    let db = kc_store::testkit::sqlite().await;
    let r = kc_app::load_demo(&db.store).await.unwrap();
    assert_eq!(r.accounts_created, 39);
    let kjj = db.store.user("kjj").await.unwrap().unwrap();
    assert!(verify_password(DEMO_PASSWORD, &kjj.password_hash));
    assert!(!kjj.must_change);
    assert_eq!(kjj.roles, vec!["coordinator".to_string()]);
    // Loading the demo again adds nothing.
    assert_eq!(
        kc_app::load_demo(&db.store).await.unwrap().accounts_created,
        0
    );
    db.cleanup().await;

    // A database with an account of its own gets none.
    let db = kc_store::testkit::sqlite().await;
    let spec = UserSpec {
        username: "real-admin".into(),
        roles: vec!["sysadmin".parse().unwrap()],
        must_change: true,
        ..Default::default()
    };
    kc_app::auth::add_user(&db.store, &Actor::cli(), &spec, &Default::default())
        .await
        .unwrap();
    let r = kc_app::load_demo(&db.store).await.unwrap();
    assert_eq!(r.accounts_created, 0);
    assert!(db.store.user("kjj").await.unwrap().is_none());
    assert_eq!(db.store.users().await.unwrap().len(), 1);
    db.cleanup().await;
}
