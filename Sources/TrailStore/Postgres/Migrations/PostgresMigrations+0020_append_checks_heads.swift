extension PostgresMigrations {
    static let m0020AppendChecksHeads = Migration(id: "0020_append_checks_heads", sql: [
        // `trail_append` checks each head it writes: the head must still be at the version the write was planned
        // on (0: no head), or the call refuses the write (SQLSTATE 40001, nothing written). The writer may then
        // plan a resource it creates for the first time as new without reading its head first (one round trip
        // fewer per transaction of creates, issue 27); a guess that was wrong is refused and planned again on
        // the heads read under the tenant's lock. The tenant's sequence and heads epoch are checked as before.
        "DROP FUNCTION trail_append",
        """
        CREATE FUNCTION trail_append(
            check_tenants text[], check_sequences int8[], check_epochs int8[], now_us int8, claim_cutoff int8,
            h_tenant text[], h_type text[], h_id text[], h_version int8[], h_state text[], h_digests text[],
            h_last int8[], h_previous int8[],
            c_tenant text[], c_key text[], c_digest bytea[], c_first int8[], c_count int4[],
            m_id uuid[], m_token text[], m_first int8[], m_count int4[],
            e_tenant text[], e_sequence int8[], e_id text[], e_occurred int8[], e_action text[], e_actor_id text[],
            e_actor text[], e_type text[], e_resource text[], e_version int8[], e_new_version bool[], e_changes text[],
            e_summary text[], e_state text[], e_digests text[], e_context text[], e_metadata text[],
            e_category text[], e_outcome text[], e_name text[], e_duration int8[], e_error text[],
            e_prev_hash bytea[], e_hash bytea[], e_search text[]
        ) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            found_sequence int8;
            found_epoch int8;
            n int8;
        BEGIN
            PERFORM set_config('synchronous_commit', 'off', true);
            FOR i IN 1..coalesce(array_length(check_tenants, 1), 0) LOOP
                SELECT last_sequence, heads_epoch INTO found_sequence, found_epoch
                FROM tenant_heads WHERE tenant = check_tenants[i] FOR UPDATE;
                IF NOT FOUND THEN
                    INSERT INTO tenant_heads (tenant, last_sequence) VALUES (check_tenants[i], 0)
                    ON CONFLICT (tenant) DO NOTHING;
                    SELECT last_sequence, heads_epoch INTO found_sequence, found_epoch
                    FROM tenant_heads WHERE tenant = check_tenants[i] FOR UPDATE;
                END IF;
                IF found_sequence <> check_sequences[i] OR found_epoch <> check_epochs[i] THEN
                    RAISE EXCEPTION 'tenant % moved on while the write was planned', check_tenants[i]
                        USING ERRCODE = 'serialization_failure';
                END IF;
            END LOOP;
            INSERT INTO resource_heads (tenant, resource_type, resource_id, version, previous_version, state,
                secret_digests, last_sequence, updated_at)
            SELECT tenant, resource_type, resource_id, version, previous, state::json, secret_digests::json,
                last_sequence, now_us
            FROM unnest(h_tenant, h_type, h_id, h_version, h_previous, h_state, h_digests, h_last)
                AS u(tenant, resource_type, resource_id, version, previous, state, secret_digests, last_sequence)
            ON CONFLICT (tenant, resource_type, resource_id) DO UPDATE SET
                previous_version = resource_heads.version, version = excluded.version, state = excluded.state,
                secret_digests = excluded.secret_digests, last_sequence = excluded.last_sequence,
                updated_at = excluded.updated_at
            WHERE resource_heads.version = excluded.previous_version;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n <> coalesce(array_length(h_id, 1), 0) THEN
                RAISE EXCEPTION 'a resource head was not at the version the write was planned on'
                    USING ERRCODE = 'serialization_failure', HINT = 'trail: head moved';
            END IF;
            -- An expired key of the same name is replaced; a live one is another writer's.
            INSERT INTO idempotency_keys (tenant, key, request_digest, first_sequence, event_count, created_at)
            SELECT tenant, key, request_digest, first_sequence, event_count, now_us
            FROM unnest(c_tenant, c_key, c_digest, c_first, c_count)
                AS u(tenant, key, request_digest, first_sequence, event_count)
            ON CONFLICT (tenant, key) DO UPDATE SET request_digest = excluded.request_digest,
                first_sequence = excluded.first_sequence, event_count = excluded.event_count,
                created_at = excluded.created_at
            WHERE idempotency_keys.created_at < claim_cutoff;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n <> coalesce(array_length(c_key, 1), 0) THEN
                RAISE EXCEPTION 'an idempotency key was claimed while the write was planned'
                    USING ERRCODE = 'serialization_failure';
            END IF;
            UPDATE messages m SET status = 'completed', error = NULL, claim_token = NULL, claimed_until = NULL,
                first_sequence = c.first_sequence, event_count = c.event_count, updated_at = now_us
            FROM unnest(m_id, m_token, m_first, m_count) AS c(id, token, first_sequence, event_count)
            WHERE m.id = c.id AND m.status = 'processing' AND m.claim_token = c.token;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n <> coalesce(array_length(m_id, 1), 0) THEN
                RAISE EXCEPTION 'a queued message changed hands while the write was planned'
                    USING ERRCODE = 'serialization_failure';
            END IF;
            INSERT INTO events (tenant, sequence, id, occurred_at, recorded_at, action, actor_id, actor, resource_type,
                resource_id, version, new_version, changes, summary, state_after, secret_digests, context, metadata,
                category, outcome, resource_name, duration_ms, error, prev_hash, hash, search)
            SELECT tenant, sequence, id::uuid, occurred_at, now_us, action, actor_id, actor::json, resource_type,
                resource_id, version, new_version, changes::json, summary, state_after::json, secret_digests::json,
                context::json, metadata::json, category, outcome, resource_name, duration_ms, error, prev_hash, hash,
                array_to_tsvector(string_to_array(search_text, ' '))
            FROM unnest(e_tenant, e_sequence, e_id, e_occurred, e_action, e_actor_id, e_actor, e_type, e_resource,
                e_version, e_new_version, e_changes, e_summary, e_state, e_digests, e_context, e_metadata, e_category,
                e_outcome, e_name, e_duration, e_error, e_prev_hash, e_hash, e_search)
                AS u(tenant, sequence, id, occurred_at, action, actor_id, actor, resource_type, resource_id, version,
                     new_version, changes, summary, state_after, secret_digests, context, metadata, category, outcome,
                     resource_name, duration_ms, error, prev_hash, hash, search_text);
        END
        $$
        """,
    ])
}
