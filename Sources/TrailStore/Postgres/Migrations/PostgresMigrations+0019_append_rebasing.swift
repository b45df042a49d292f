extension PostgresMigrations {
    static let m0019AppendRebasing = Migration(id: "0019_append_rebasing", sql: [
        // `trail_append` (0018) behind one more step, which PostgresAppender now calls for every write: with
        // `moving` (a writer that expects other processes to write the same tenants, after one of its plans was
        // overtaken), a plan whose tenant moved on is not refused but moved to where the tenant is, under the
        // tenant's lock, in the same autocommitted call — as long as nothing the plan was computed from changed:
        //
        // - every resource head the plan read (`b_*`: the version it saw, NULL for none) is still at that
        //   version (a head's state changes only with its version, or with an erasure, which bumps the epoch);
        // - the tenant's heads epoch is the one planned on, and no queued message is completed by the call.
        //
        // Moving a plan adds the tenant's distance to every sequence it wrote (events, heads, idempotency keys)
        // and hashes its events again from the tenant's last hash: each event's canonical form comes in three
        // parts around `prev_hash` and `sequence` (`r_head`, `r_middle`, `r_tail`; EventHash.parts in
        // TrailCore), and its hash is SHA-256 over them with the new values between. The events trigger checks
        // the result as it checks every insert (sequence and hash chain continue, versions continue).
        //
        // Returns, per checked tenant, how far it moved the plan, the hash it continued from and the tenant's last
        // hash once written, so that the caller answers with the events as stored. Any other change since the
        // plan is refused (40001), as `trail_append` refuses, and the caller plans again under the locks.
        // Without `check_tenants` (the caller holds the locks) it writes, as `trail_append` does.
        """
        CREATE FUNCTION trail_append_rebasing(
            check_tenants text[], check_sequences int8[], check_epochs int8[], now_us int8, claim_cutoff int8,
            moving boolean,
            b_tenant text[], b_type text[], b_id text[], b_version int8[],
            h_tenant text[], h_type text[], h_id text[], h_version int8[], h_state text[], h_digests text[],
            h_last int8[],
            c_tenant text[], c_key text[], c_digest bytea[], c_first int8[], c_count int4[],
            m_id uuid[], m_token text[], m_first int8[], m_count int4[],
            e_tenant text[], e_sequence int8[], e_id text[], e_occurred int8[], e_action text[], e_actor_id text[],
            e_actor text[], e_type text[], e_resource text[], e_version int8[], e_new_version bool[], e_changes text[],
            e_summary text[], e_state text[], e_digests text[], e_context text[], e_metadata text[],
            e_category text[], e_outcome text[], e_name text[], e_duration int8[], e_error text[],
            e_prev_hash bytea[], e_hash bytea[], e_search text[],
            r_head bytea[], r_middle bytea[], r_tail bytea[]
        ) RETURNS TABLE (moved_tenant text, moved_by int8, moved_after bytea, stored_hash bytea) LANGUAGE plpgsql AS $$
        DECLARE
            found_sequence int8;
            found_epoch int8;
            found_hash bytea;
            deltas int8[] := '{}';
            hashes bytea[] := '{}';
            running bytea[];
            moved boolean := false;
            k int;
        BEGIN
            FOR i IN 1..coalesce(array_length(check_tenants, 1), 0) LOOP
                SELECT last_sequence, heads_epoch, last_hash INTO found_sequence, found_epoch, found_hash
                FROM tenant_heads WHERE tenant = check_tenants[i] FOR UPDATE;
                IF NOT FOUND THEN
                    INSERT INTO tenant_heads (tenant, last_sequence) VALUES (check_tenants[i], 0)
                    ON CONFLICT (tenant) DO NOTHING;
                    SELECT last_sequence, heads_epoch, last_hash INTO found_sequence, found_epoch, found_hash
                    FROM tenant_heads WHERE tenant = check_tenants[i] FOR UPDATE;
                END IF;
                IF found_sequence < check_sequences[i] OR found_epoch <> check_epochs[i]
                    OR (found_sequence > check_sequences[i] AND NOT moving) THEN
                    RAISE EXCEPTION 'tenant % moved on while the write was planned', check_tenants[i]
                        USING ERRCODE = 'serialization_failure';
                END IF;
                deltas := deltas || (found_sequence - check_sequences[i]);
                hashes := hashes || found_hash;
                moved := moved OR found_sequence > check_sequences[i];
            END LOOP;
            IF moved THEN
                IF coalesce(array_length(m_id, 1), 0) > 0 THEN
                    RAISE EXCEPTION 'a write completing queued messages is not moved' USING ERRCODE = 'serialization_failure';
                END IF;
                IF EXISTS (
                    SELECT 1 FROM unnest(b_tenant, b_type, b_id, b_version) AS b(tenant, resource_type, resource_id, version)
                    LEFT JOIN resource_heads h ON h.tenant = b.tenant AND h.resource_type = b.resource_type
                        AND h.resource_id = b.resource_id
                    WHERE h.version IS DISTINCT FROM b.version
                ) THEN
                    RAISE EXCEPTION 'a resource changed while the write was planned' USING ERRCODE = 'serialization_failure';
                END IF;
                running := hashes;
                FOR i IN 1..coalesce(array_length(e_tenant, 1), 0) LOOP
                    k := array_position(check_tenants, e_tenant[i]);
                    IF deltas[k] > 0 THEN
                        e_sequence[i] := e_sequence[i] + deltas[k];
                        e_prev_hash[i] := running[k];
                        e_hash[i] := sha256(r_head[i] || convert_to('"' || encode(running[k], 'hex') || '"', 'UTF8')
                            || r_middle[i] || convert_to(e_sequence[i]::text, 'UTF8') || r_tail[i]);
                        running[k] := e_hash[i];
                    END IF;
                END LOOP;
                FOR i IN 1..coalesce(array_length(h_tenant, 1), 0) LOOP
                    h_last[i] := h_last[i] + deltas[array_position(check_tenants, h_tenant[i])];
                END LOOP;
                FOR i IN 1..coalesce(array_length(c_tenant, 1), 0) LOOP
                    c_first[i] := c_first[i] + deltas[array_position(check_tenants, c_tenant[i])];
                END LOOP;
            END IF;
            -- The locks are held: trail_append writes without checking again.
            PERFORM trail_append('{}', '{}', '{}', now_us, claim_cutoff,
                h_tenant, h_type, h_id, h_version, h_state, h_digests, h_last,
                c_tenant, c_key, c_digest, c_first, c_count, m_id, m_token, m_first, m_count,
                e_tenant, e_sequence, e_id, e_occurred, e_action, e_actor_id, e_actor, e_type, e_resource, e_version,
                e_new_version, e_changes, e_summary, e_state, e_digests, e_context, e_metadata, e_category, e_outcome,
                e_name, e_duration, e_error, e_prev_hash, e_hash, e_search);
            RETURN QUERY SELECT check_tenants[i], deltas[i], hashes[i], t.last_hash
                FROM generate_subscripts(check_tenants, 1) AS i JOIN tenant_heads t ON t.tenant = check_tenants[i];
        END
        $$
        """,
    ])
}
