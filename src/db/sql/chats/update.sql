-- Sets columns of one chat; ${assignments} is the already formatted SET list (it bumps updated_at).
UPDATE chats SET ${assignments:raw} WHERE id = ${id}
RETURNING *, (extract(epoch FROM updated_at) * 1000000)::bigint::text AS updated_us
