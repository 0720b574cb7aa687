fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join("kvs-prof");
    let _ = std::fs::remove_dir_all(&dir);
    let kvs = kvs::Kvs::open(dir.join("p.redb")).unwrap();
    rt.block_on(async {
        kvs.ensure_store(kvs::StoreSchema::new("users", kvs::KeyAttr::string("id"))).await.unwrap();
        kvs.upsert_many("users", (0..10000).map(|i| kvs::item!{"id" => format!("user-{i:08}"), "name" => format!("User {i}"), "email" => format!("u{i}@e.com"), "age" => 3, "score" => 1.5, "tags" => kvs::Value::string_set(["a","b"]), "address" => kvs::item!{"city" => "L", "country" => "UK"}})).await.unwrap();
        let ids: Vec<String> = (0..10000).map(|i| format!("user-{:08}", (i * 7919) % 10000)).collect();
        let t = std::time::Instant::now();
        for r in 0..50 { for id in &ids { std::hint::black_box(kvs.get("users", id.as_str()).await.unwrap()); } let _ = r; }
        println!("{:?}/get", t.elapsed() / 500000);
    });
}
