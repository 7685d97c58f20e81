//! Drives romm-api (unchanged) against a Tessera at `$TESSERA_URL` and prints what it decoded as one JSON
//! line; any request or decoding error exits non-zero with romm-api's own message.
//!
//! `basic USER PASSWORD`: Basic auth (romm-cli's default); `/api/users/me` as `CurrentUser`, device
//! registration as `DeviceCreateResponse`, `/api/devices*` as `DeviceSchema`, a partial device update.
//! `bearer TOKEN`: the same reads with a client token; `apikey HEADER TOKEN`: with romm-api's API-key mode. `exchange CODE`: the pair-code exchange as
//! `ClientTokenCreateSchema`, then `/api/users/me` with the token it returned.

use romm_api::client::RommClient;
use romm_api::config::Config;
use romm_api::endpoints::client_tokens::ExchangeClientToken;
use romm_api::endpoints::device::{GetDevice, ListDevices, RegisterDevice, UpdateDevice};
use romm_api::endpoints::system::GetUsersMe;
use serde_json::{json, Value};

fn client(auth: Value) -> RommClient {
    let url = std::env::var("TESSERA_URL").expect("TESSERA_URL");
    let config: Config = serde_json::from_value(json!({
        "base_url": url,
        "download_dir": std::env::temp_dir(),
        "use_https": false,
        "auth": auth,
    }))
    .expect("romm-api's Config");
    RommClient::new(&config, false).expect("romm-api's client")
}

async fn reads(c: &RommClient) -> Result<Value, String> {
    let me = c
        .call(&GetUsersMe)
        .await
        .map_err(|e| format!("GET /api/users/me: {e}"))?;
    let devices = c
        .call(&ListDevices)
        .await
        .map_err(|e| format!("GET /api/devices: {e}"))?;
    Ok(json!({"me_id": me.id, "ra_username": me.ra_username, "devices": devices.len()}))
}

async fn run(args: &[String]) -> Result<Value, String> {
    match args {
        [mode, user, password] if mode == "basic" => {
            let c = client(json!({"Basic": {"username": user, "password": password}}));
            let mut out = reads(&c).await?;
            let body = json!({"name": "romm-cli", "platform": "Linux", "client": "romm-cli",
                "client_version": "1.4.1", "hostname": "harness"});
            let created = c
                .call(&RegisterDevice { body: body.clone() })
                .await
                .map_err(|e| format!("POST /api/devices: {e}"))?;
            let again = c
                .call(&RegisterDevice { body })
                .await
                .map_err(|e| format!("POST /api/devices again: {e}"))?;
            let device = c
                .call(&GetDevice {
                    device_id: created.device_id.clone(),
                })
                .await
                .map_err(|e| format!("GET /api/devices/{{id}}: {e}"))?;
            let updated = c
                .call(&UpdateDevice {
                    device_id: created.device_id.clone(),
                    body: json!({"client_version": "1.4.2"}),
                })
                .await
                .map_err(|e| format!("PUT /api/devices/{{id}}: {e}"))?;
            out["device_id"] = json!(created.device_id);
            out["same_device_again"] = json!(again.device_id == created.device_id);
            out["sync_mode"] = serde_json::to_value(device.sync_mode).unwrap_or(Value::Null);
            out["hostname"] = json!(device.hostname);
            out["updated_client_version"] = json!(updated.client_version);
            Ok(out)
        }
        [mode, token] if mode == "bearer" => reads(&client(json!({"Bearer": {"token": token}}))).await,
        [mode, header, key] if mode == "apikey" => {
            reads(&client(json!({"ApiKey": {"header": header, "key": key}}))).await
        }
        [mode, code] if mode == "exchange" => {
            let anonymous = client(Value::Null);
            let token = anonymous
                .call(&ExchangeClientToken { code: code.clone() })
                .await
                .map_err(|e| format!("POST /api/client-tokens/exchange: {e}"))?;
            let me = client(json!({"Bearer": {"token": token.raw_token}}))
                .call(&GetUsersMe)
                .await
                .map_err(|e| format!("GET /api/users/me with the exchanged token: {e}"))?;
            Ok(
                json!({"token_name": token.name, "scopes": token.scopes, "user_id": token.user_id,
                "me_id": me.id}),
            )
        }
        _ => Err("usage: romm-api-harness basic USER PASSWORD | bearer TOKEN | apikey HEADER TOKEN | exchange CODE".into()),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("romm-api: {e}");
            std::process::exit(1);
        }
    }
}
