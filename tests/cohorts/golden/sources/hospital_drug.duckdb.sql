-- hospital_drug in code list list
SELECT
  person_id,
  event_date,
  code,
  'hospital_drug' AS source
FROM (
  SELECT
    m.person_id,
    CAST(p.EXE_SOI_DTD AS DATE) AS event_date,
    d.UCD_UCD_COD AS code,
    SUM(d.UCD_DLV_NBR) AS quantity,
    COUNT(*) AS records
  FROM ER_UCD_F AS d
  JOIN ER_PRS_F AS p
    ON d.FLX_DIS_DTD = p.FLX_DIS_DTD
    AND d.FLX_TRT_DTD = p.FLX_TRT_DTD
    AND d.FLX_EMT_TYP = p.FLX_EMT_TYP
    AND d.FLX_EMT_NUM = p.FLX_EMT_NUM
    AND d.FLX_EMT_ORD = p.FLX_EMT_ORD
    AND d.ORG_CLE_NUM = p.ORG_CLE_NUM
    AND d.DCT_ORD_NUM = p.DCT_ORD_NUM
    AND d.PRS_ORD_NUM = p.PRS_ORD_NUM
    AND d.REM_TYP_AFF = p.REM_TYP_AFF
  JOIN nir_person AS m
    ON m.BEN_NIR_PSA = p.BEN_NIR_PSA AND m.BEN_RNG_GEM = p.BEN_RNG_GEM
  WHERE
    (
      (
        (
          (
            d.UCD_UCD_COD IN ('3400890000000')
            AND p.FLX_DIS_DTD BETWEEN CAST('2019-01-01' AS DATE) AND CAST('2020-06-30' AS DATE)
          )
          AND CAST(p.EXE_SOI_DTD AS DATE) BETWEEN CAST('2019-01-01' AS DATE) AND CAST('2019-12-31' AS DATE)
        )
        AND (
          p.DPN_QLF IS NULL OR NOT p.DPN_QLF IN (71, 72)
        )
      )
      AND (
        p.BSE_PRS_NAT IS NULL OR NOT p.BSE_PRS_NAT IN (0)
      )
    )
    AND NOT EXISTS(
      SELECT
        1
      FROM ER_ETE_F AS e
      WHERE
        (
          e.FLX_DIS_DTD = p.FLX_DIS_DTD
          AND e.FLX_TRT_DTD = p.FLX_TRT_DTD
          AND e.FLX_EMT_TYP = p.FLX_EMT_TYP
          AND e.FLX_EMT_NUM = p.FLX_EMT_NUM
          AND e.FLX_EMT_ORD = p.FLX_EMT_ORD
          AND e.ORG_CLE_NUM = p.ORG_CLE_NUM
          AND e.DCT_ORD_NUM = p.DCT_ORD_NUM
          AND e.PRS_ORD_NUM = p.PRS_ORD_NUM
          AND e.REM_TYP_AFF = p.REM_TYP_AFF
        )
        AND e.ETE_IND_TAA = 1
    )
  GROUP BY
    m.person_id,
    CAST(p.EXE_SOI_DTD AS DATE),
    d.UCD_UCD_COD
  HAVING
    SUM(d.UCD_DLV_NBR) > 0
) AS s
