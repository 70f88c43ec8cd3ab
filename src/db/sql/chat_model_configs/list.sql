-- Live model configs, the default first, then by display name; disabled ones only when asked.
SELECT * FROM chat_model_configs WHERE NOT deleted AND (${includeDisabled} OR enabled)
ORDER BY is_default DESC, display_name, id
