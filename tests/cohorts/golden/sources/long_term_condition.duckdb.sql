-- long_term_condition in code list list
SELECT
  person_id,
  event_date,
  code,
  'long_term_condition' AS source
FROM (
  SELECT
    m.person_id,
    CAST(t.IMB_ALD_DTD AS DATE) AS event_date,
    t.MED_MTF_COD AS code,
    'ALD' AS role
  FROM IR_IMB_R AS t
  JOIN nir_person AS m
    ON m.BEN_NIR_PSA = t.BEN_NIR_PSA AND m.BEN_RNG_GEM = t.BEN_RNG_GEM
  WHERE
    (
      t.MED_MTF_COD IN ('E11')
      AND (
        t.IMB_ETM_NAT IS NULL OR NOT t.IMB_ETM_NAT IN (11, 12, 13)
      )
    )
    AND CAST(t.IMB_ALD_DTD AS DATE) BETWEEN CAST('2019-01-01' AS DATE) AND CAST('2019-12-31' AS DATE)
) AS s
