<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP">
<context>
    <name>AuditTableModel</name>
    <message>
        <source>#</source>
        <translation>No.</translation>
    </message>
    <message>
        <source>Time (local)</source>
        <translation>日時（現地時刻）</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>イベント</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>結果</translation>
    </message>
    <message>
        <source>User</source>
        <translation>ユーザー</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>モデル</translation>
    </message>
    <message>
        <source>Score / threshold</source>
        <translation>スコア / 閾値</translation>
    </message>
    <message>
        <source>AI finding</source>
        <translation>AI所見</translation>
    </message>
    <message>
        <source>Clinician finding</source>
        <translation>医師の所見</translation>
    </message>
    <message>
        <source>Meaning</source>
        <translation>意味</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>AI shown</source>
        <translation>AI結果の表示</translation>
    </message>
    <message>
        <source>Patient (pseudonym)</source>
        <translation>患者（仮名ID）</translation>
    </message>
    <message>
        <source>Stored as {utc} (UTC)</source>
        <translation>保存値：{utc}（UTC）</translation>
    </message>
    <message>
        <source>success</source>
        <translation>成功</translation>
    </message>
    <message>
        <source>FAILURE</source>
        <translation>失敗</translation>
    </message>
    <message>
        <source>confirmed</source>
        <translation>確定</translation>
    </message>
    <message>
        <source>overrode</source>
        <translation>上書き</translation>
    </message>
    <message>
        <source>before the clinician&apos;s read</source>
        <translation>医師の読影前</translation>
    </message>
    <message>
        <source>after the clinician&apos;s read</source>
        <translation>医師の読影後</translation>
    </message>
    <message>
        <source>positive</source>
        <translation>陽性</translation>
    </message>
    <message>
        <source>negative</source>
        <translation>陰性</translation>
    </message>
    <message>
        <source>App started</source>
        <translation>アプリ起動</translation>
    </message>
    <message>
        <source>App stopped</source>
        <translation>アプリ終了</translation>
    </message>
    <message>
        <source>Bundle verified</source>
        <translation>バンドル検証</translation>
    </message>
    <message>
        <source>Bundle refused</source>
        <translation>バンドル拒否</translation>
    </message>
    <message>
        <source>Bundle installed</source>
        <translation>バンドルインストール</translation>
    </message>
    <message>
        <source>Bundle activated</source>
        <translation>バンドル有効化</translation>
    </message>
    <message>
        <source>Bundle rolled back</source>
        <translation>バンドルロールバック</translation>
    </message>
    <message>
        <source>Image opened</source>
        <translation>画像を開いた</translation>
    </message>
    <message>
        <source>Image exported or printed</source>
        <translation>画像の書き出しまたは印刷</translation>
    </message>
    <message>
        <source>AI result shown</source>
        <translation>AI結果を表示</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>判定</translation>
    </message>
    <message>
        <source>Amendment</source>
        <translation>修正</translation>
    </message>
    <message>
        <source>Report exported</source>
        <translation>レポート出力</translation>
    </message>
    <message>
        <source>Verification</source>
        <translation>検証</translation>
    </message>
    <message>
        <source>Site threshold set</source>
        <translation>施設閾値の設定</translation>
    </message>
    <message>
        <source>Change record</source>
        <translation>変更記録</translation>
    </message>
    <message>
        <source>Shadow scoring started</source>
        <translation>シャドー評価開始</translation>
    </message>
    <message>
        <source>Shadow scoring stopped</source>
        <translation>シャドー評価停止</translation>
    </message>
    <message>
        <source>Shadow result (candidate, not shown in readings)</source>
        <translation>シャドー結果（候補モデル、読影には表示されません）</translation>
    </message>
    <message>
        <source>New log started</source>
        <translation>新しいログを開始</translation>
    </message>
    <message>
        <source>Monitoring alert</source>
        <translation>モニタリング警告</translation>
    </message>
    <message>
        <source>Sent to PACS</source>
        <translation>PACSへ送信済み</translation>
    </message>
    <message>
        <source>Sending to PACS failed</source>
        <translation>PACSへの送信に失敗</translation>
    </message>
    <message>
        <source>Retrieved from PACS</source>
        <translation>PACSから取得</translation>
    </message>
    <message>
        <source>Queued for PACS</source>
        <translation>PACS 送信待ちに登録</translation>
    </message>
    <message>
        <source>Not queued for PACS</source>
        <translation>PACS 送信待ちに登録できず</translation>
    </message>
    <message>
        <source>Audit repository failed TLS authentication</source>
        <translation>監査リポジトリのTLS認証に失敗</translation>
    </message>
</context>
<context>
    <name>BundleRefusal</name>
    <message>
        <source>The file is not a valid bundle archive.</source>
        <translation>ファイルが正しいバンドルのアーカイブではありません。</translation>
    </message>
    <message>
        <source>The signature does not match the contents (altered or damaged).</source>
        <translation>署名が内容と一致しません（改変または破損）。</translation>
    </message>
    <message>
        <source>The signing key is not trusted at this site.</source>
        <translation>署名鍵がこの施設で信頼されていません。</translation>
    </message>
    <message>
        <source>The manifest is incomplete or invalid.</source>
        <translation>マニフェストが不完全または不正です。</translation>
    </message>
    <message>
        <source>The manifest asks for an unknown preprocessing step.</source>
        <translation>マニフェストに未知の前処理ステップが指定されています。</translation>
    </message>
    <message>
        <source>The network architecture is not available in this app.</source>
        <translation>このアプリでは利用できないネットワークアーキテクチャです。</translation>
    </message>
    <message>
        <source>The bundle needs a different app or library version.</source>
        <translation>このバンドルには別のバージョンのアプリまたはライブラリが必要です。</translation>
    </message>
    <message>
        <source>The weights do not match the manifest or the architecture.</source>
        <translation>重みがマニフェストまたはアーキテクチャと一致しません。</translation>
    </message>
    <message>
        <source>The self-test gave different results than at creation.</source>
        <translation>セルフテストの結果が作成時と一致しません。</translation>
    </message>
    <message>
        <source>This would install an older version than one already installed.</source>
        <translation>すでにインストールされているバージョンより古いバージョンをインストールすることになります。</translation>
    </message>
    <message>
        <source>The model store refused this model or change.</source>
        <translation>モデルストアがこのモデルまたは変更を拒否しました。</translation>
    </message>
</context>
<context>
    <name>Checks</name>
    <message>
        <source>This object holds no image to score.</source>
        <translation>このオブジェクトにはスコアを算出できる画像がありません。</translation>
    </message>
    <message>
        <source>This image is of a {value} (Patient Species, (0010,2201)/(0010,2202)); the model is for human chest radiographs only, so no score is given.</source>
        <translation>この画像は {value} のものです（Patient Species、(0010,2201)/(0010,2202)）。このモデルはヒトの胸部 X 線写真専用のため、スコアは出しません。</translation>
    </message>
    <message>
        <source>This is a multi-frame object ({frames} frames, Number of Frames (0028,0008)); the model scores single chest radiographs.</source>
        <translation>マルチフレームのオブジェクトです（{frames} フレーム、Number of Frames (0028,0008)）。このモデルは単一の胸部X線写真のみを評価します。</translation>
    </message>
    <message>
        <source>This is a colour image (Photometric Interpretation (0028,0004) {photometric}, {samples} samples per pixel); the model scores greyscale radiographs only.</source>
        <translation>カラー画像です（Photometric Interpretation (0028,0004) {photometric}、1ピクセルあたり {samples} サンプル）。このモデルはグレースケールのX線写真のみを評価します。</translation>
    </message>
    <message>
        <source>Photometric Interpretation (0028,0004) is empty; MONOCHROME2 was assumed.</source>
        <translation>Photometric Interpretation (0028,0004) が空のため、MONOCHROME2 とみなしました。</translation>
    </message>
    <message>
        <source>The model was validated on {allowed} images; this one is {value}.</source>
        <translation>このモデルは {allowed} の画像で検証されています。この画像は {value} です。</translation>
    </message>
    <message>
        <source>{value} is accepted.</source>
        <translation>{value} は対象内です。</translation>
    </message>
    <message>
        <source>Modality (0008,0060) is empty; check that this is a chest radiograph ({allowed}).</source>
        <translation>Modality (0008,0060) が空です。胸部X線写真（{allowed}）であることを確認してください。</translation>
    </message>
    <message>
        <source>This is a {value} image (Modality (0008,0060)); the model is for {allowed} radiographs only, so no score is given.</source>
        <translation>{value} の画像です（Modality (0008,0060)）。このモデルは {allowed} のX線写真専用のため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>Modality {value} is accepted.</source>
        <translation>モダリティ {value} は対象内です。</translation>
    </message>
    <message>
        <source>The model accepts any view.</source>
        <translation>このモデルはすべての撮影方向を受け付けます。</translation>
    </message>
    <message>
        <source>View Position (0018,5101) is empty, so Bedside cannot tell the view; the model was validated on {allowed} views. Check the view yourself.</source>
        <translation>View Position (0018,5101) が空のため、Bedside は撮影方向を判定できません。このモデルは {allowed} 像で検証されています。撮影方向をご自身で確認してください。</translation>
    </message>
    <message>
        <source>View {value} is accepted.</source>
        <translation>撮影方向 {value} は対象内です。</translation>
    </message>
    <message>
        <source>This is a lateral view ({value}, View Position (0018,5101)); the model scores frontal {allowed} views only, so no score is given.</source>
        <translation>側面像です（{value}、View Position (0018,5101)）。このモデルは正面の {allowed} 像のみを評価するため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>This is a {value} view (View Position (0018,5101)); the model was validated on {allowed} views, so its score and threshold may not hold.</source>
        <translation>{value} 像です（View Position (0018,5101)）。このモデルは {allowed} 像で検証されているため、スコアと閾値が当てはまらない可能性があります。</translation>
    </message>
    <message>
        <source>The model accepts any body part.</source>
        <translation>このモデルはすべての撮影部位を受け付けます。</translation>
    </message>
    <message>
        <source>Body Part Examined (0018,0015) is empty; the model is for {allowed}.</source>
        <translation>Body Part Examined (0018,0015) が空です。このモデルの対象は {allowed} です。</translation>
    </message>
    <message>
        <source>Body part {value} is accepted.</source>
        <translation>撮影部位 {value} は対象内です。</translation>
    </message>
    <message>
        <source>Body Part Examined (0018,0015) is {value}; the model is for {allowed}.</source>
        <translation>Body Part Examined (0018,0015) は {value} です。このモデルの対象は {allowed} です。</translation>
    </message>
    <message>
        <source>Bits Stored (0028,0101) is missing.</source>
        <translation>Bits Stored (0028,0101) がありません。</translation>
    </message>
    <message>
        <source>The image has {bits} bits stored (0028,0101); the model was validated on {low} to {high} bits.</source>
        <translation>この画像の格納ビット数は {bits} ビットです (0028,0101)。このモデルは {low}〜{high} ビットで検証されています。</translation>
    </message>
    <message>
        <source>{bits} bits stored is accepted.</source>
        <translation>格納ビット数 {bits} は対象内です。</translation>
    </message>
    <message>
        <source>The image is {columns} x {rows} pixels, below the minimum of {floor} pixels per side that any score needs, so no score is given.</source>
        <translation>画像は {columns} × {rows} ピクセルで、スコア算出に必要な1辺あたり最小 {floor} ピクセルを下回るため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The image is {columns} x {rows} pixels, smaller than the {min_columns} x {min_rows} the model was validated on; fine detail is missing.</source>
        <translation>画像は {columns} × {rows} ピクセルで、モデルの検証に用いた {min_columns} × {min_rows} より小さいため、細部の情報が不足しています。</translation>
    </message>
    <message>
        <source>{columns} x {rows} pixels is accepted.</source>
        <translation>{columns} × {rows} ピクセルは対象内です。</translation>
    </message>
    <message>
        <source>The model accepts any pixel spacing.</source>
        <translation>このモデルはすべてのピクセル間隔を受け付けます。</translation>
    </message>
    <message>
        <source>The image states no pixel spacing (Pixel Spacing (0028,0030) or Imager Pixel Spacing (0018,1164)); Bedside cannot check it against the model&apos;s range.</source>
        <translation>画像にピクセル間隔の記載がありません（Pixel Spacing (0028,0030) または Imager Pixel Spacing (0018,1164)）。Bedside はモデルの対象範囲と照合できません。</translation>
    </message>
    <message>
        <source>The pixel spacing is {row_mm} x {col_mm} mm ({source}); the model was validated on {low} to {high} mm.</source>
        <translation>ピクセル間隔は {row_mm} × {col_mm} mm（{source}）です。このモデルは {low}〜{high} mm で検証されています。</translation>
    </message>
    <message>
        <source>Pixel spacing {row_mm} x {col_mm} mm ({source}) is accepted.</source>
        <translation>ピクセル間隔 {row_mm} × {col_mm} mm（{source}）は対象内です。</translation>
    </message>
    <message>
        <source>The image holds pixel values that are not numbers or infinite after the Modality LUT (Rescale Slope/Intercept (0028,1053)/(0028,1052)), so no score is given.</source>
        <translation>Modality LUT（Rescale Slope/Intercept (0028,1053)/(0028,1052)）適用後の画素値に数値でない値または無限大が含まれるため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The image is blank: every pixel has the value {value} after the Modality LUT, so there is nothing to score and no score is given.</source>
        <translation>画像が空白です。Modality LUT 適用後のすべての画素値が {value} で、評価対象がないため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The image is almost blank: {percent} % of its pixels have the value {value} (padding or an empty exposure), so no score is given.</source>
        <translation>画像がほぼ空白です。画素の {percent} % が値 {value} です（パディングまたは空曝射）。スコアは表示しません。</translation>
    </message>
    <message>
        <source>The pixel values vary ({low} to {high} after the Modality LUT).</source>
        <translation>画素値に変化があります（Modality LUT 適用後 {low}〜{high}）。</translation>
    </message>
    <message>
        <source>The window the model starts from (center {center}, width {width}) maps every pixel of this image ({low} to {high} after the Modality LUT) onto almost one grey value, so the model would see a blank image; no score is given.</source>
        <translation>モデルが用いるウィンドウ（中心 {center}、幅 {width}）では、この画像のすべての画素（Modality LUT 適用後 {low}〜{high}）がほぼ一つの濃度になり、モデルには空白の画像として入力されるため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The model&apos;s input holds values that are not numbers or infinite, so no score is given.</source>
        <translation>モデルへの入力に数値でない値または無限大が含まれるため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>After the model&apos;s preprocessing the image is flat (every value {value}): the stored window or the pixel values do not fit the model, so no score is given.</source>
        <translation>モデルの前処理後、画像が平坦です（すべての値が {value}）。保存されたウィンドウまたは画素値がモデルに適合しないため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>After the model&apos;s preprocessing {percent} % of the image is at its darkest or brightest value (saturated), so no score is given. Check the stored window (0028,1050)/(0028,1051) and the Rescale Slope (0028,1053).</source>
        <translation>モデルの前処理後、画像の {percent} % が最も暗い値または最も明るい値になっている（飽和）ため、スコアは表示しません。保存されたウィンドウ (0028,1050)/(0028,1051) と Rescale Slope (0028,1053) を確認してください。</translation>
    </message>
    <message>
        <source>After the model&apos;s preprocessing {percent} % of the image has one grey value, so no score is given.</source>
        <translation>モデルの前処理後、画像の {percent} % が単一の濃度値のため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The model&apos;s input is neither blank nor saturated.</source>
        <translation>モデルへの入力は空白でも飽和でもありません。</translation>
    </message>
    <message>
        <source>The model used the stored window (center {center}, width {width}).</source>
        <translation>モデルは保存されたウィンドウ（中心 {center}、幅 {width}）を使用しました。</translation>
    </message>
    <message>
        <source>The image has no stored window (Window Center/Width (0028,1050)/(0028,1051)); the model used its declared fallback, the image&apos;s own minimum to maximum.</source>
        <translation>画像に保存されたウィンドウ（Window Center/Width (0028,1050)/(0028,1051)）がないため、モデルは定められた代替手段として画像自体の最小値〜最大値を使用しました。</translation>
    </message>
    <message>
        <source>The model needs the image&apos;s stored window (Window Center/Width (0028,1050)/(0028,1051)), and this image has none, so no score is given.</source>
        <translation>このモデルには画像に保存されたウィンドウ（Window Center/Width (0028,1050)/(0028,1051)）が必要ですが、この画像にはないため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The image&apos;s stored window (Window Center/Width (0028,1050)/(0028,1051): center {center}, width {width}) is invalid and was ignored; the model used its fallback, the image&apos;s own minimum to maximum, so the score may differ from the validated one.</source>
        <translation>画像に保存されたウィンドウ（Window Center/Width (0028,1050)/(0028,1051)：中心 {center}、幅 {width}）は無効なため無視しました。モデルは代替手段として画像自体の最小値〜最大値を使用したため、スコアが検証時と異なる可能性があります。</translation>
    </message>
    <message>
        <source>The image&apos;s first stored window (Window Center/Width (0028,1050)/(0028,1051): center {center}, width {width}) is invalid and was ignored; the model used the next one (center {used_center}, width {used_width}), so the score may differ from the validated one.</source>
        <translation>画像に保存された最初のウィンドウ（Window Center/Width (0028,1050)/(0028,1051)：中心 {center}、幅 {width}）は無効なため無視しました。モデルは次のウィンドウ（中心 {used_center}、幅 {used_width}）を使用したため、スコアが検証時と異なる可能性があります。</translation>
    </message>
    <message>
        <source>The image&apos;s stored window (Window Center/Width (0028,1050)/(0028,1051): center {center}, width {width}) is invalid, and the model needs a valid stored window, so no score is given.</source>
        <translation>画像に保存されたウィンドウ（Window Center/Width (0028,1050)/(0028,1051)：中心 {center}、幅 {width}）が無効で、このモデルには有効な保存ウィンドウが必要なため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>Photometric Interpretation (0028,0004) is empty, and the model needs it stated, so no score is given.</source>
        <translation>Photometric Interpretation (0028,0004) が空です。このモデルにはその記載が必要なため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The model is for {allowed} images only; this one is {value}, so no score is given.</source>
        <translation>このモデルは {allowed} の画像専用ですが、この画像は {value} のため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>Modality (0008,0060) is empty, so Bedside cannot tell that this is a radiograph; the model is for {allowed} radiographs only, so no score is given.</source>
        <translation>Modality (0008,0060) が空のため、Bedside はこれがX線写真であることを確認できません。このモデルは {allowed} のX線写真専用のため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>This is a {value} image (Modality (0008,0060)); the model was validated on {allowed} radiographs, so its score and threshold may not hold.</source>
        <translation>これは {value} 画像です（Modality (0008,0060)）。このモデルは {allowed} のX線写真で検証されているため、スコアと閾値が当てはまらない可能性があります。</translation>
    </message>
    <message>
        <source>View Position (0018,5101) is empty, and the model is for {allowed} views only, so no score is given.</source>
        <translation>View Position (0018,5101) が空です。このモデルは {allowed} 方向の撮影専用のため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>This is a {value} view (View Position (0018,5101)); the model is for {allowed} views only, so no score is given.</source>
        <translation>これは {value} 方向の撮影です（View Position (0018,5101)）。このモデルは {allowed} 方向の撮影専用のため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>Body Part Examined (0018,0015) is empty, and the model is for {allowed} only and needs it stated, so no score is given.</source>
        <translation>Body Part Examined (0018,0015) が空です。このモデルは {allowed} 専用で、その記載が必要なため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>This is an image of the {value} (Body Part Examined (0018,0015)); the model is for {allowed} only, so no score is given.</source>
        <translation>これは {value} の画像です（Body Part Examined (0018,0015)）。このモデルは {allowed} 専用のため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>Bits Stored (0028,0101) is missing, and the model needs it, so no score is given.</source>
        <translation>Bits Stored (0028,0101) がありません。このモデルにはその値が必要なため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The image has {bits} bits stored (0028,0101); the model is for {low} to {high} bits only, so no score is given.</source>
        <translation>この画像の格納ビット数は {bits} ビットです（0028,0101）。このモデルは {low}～{high} ビット専用のため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The image states no pixel spacing (Pixel Spacing (0028,0030) or Imager Pixel Spacing (0018,1164)), and the model needs it, so no score is given.</source>
        <translation>この画像にはピクセル間隔（Pixel Spacing (0028,0030) または Imager Pixel Spacing (0018,1164)）の記載がありません。このモデルにはその値が必要なため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The pixel spacing is {row_mm} x {col_mm} mm ({source}); the model is for {low} to {high} mm only, so no score is given.</source>
        <translation>ピクセル間隔は {row_mm} x {col_mm} mm です（{source}）。このモデルは {low}～{high} mm 専用のため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The image&apos;s stored values run from {low} to {high}, outside 0 to {top}, the range its Bits Stored ({bits}, (0028,0101)) allows; the model reads stored values, so no score is given.</source>
        <translation>この画像の保存値は {low} から {high} で、Bits Stored（{bits}、(0028,0101)）が許す 0 から {top} の範囲を外れています。このモデルは保存値を読むため、スコアは出しません。</translation>
    </message>
    <message>
        <source>This image is outside the images this model was validated on: its features lie at distance {distance} from the model&apos;s reference images, beyond {threshold} (the reference&apos;s {percentile}th percentile), so no score is given.</source>
        <translation>この画像は、このモデルが検証された画像の範囲外です。画像の特徴量はモデルの参照画像から距離 {distance} にあり、上限 {threshold}(参照画像の {percentile} パーセンタイル)を超えているため、スコアは表示しません。</translation>
    </message>
    <message>
        <source>The image is like the images the model was validated on (distance {distance}, limit {threshold}).</source>
        <translation>この画像は、モデルが検証された画像と同様です(距離 {distance}、上限 {threshold})。</translation>
    </message>
    <message>
        <source>The image&apos;s pixel values run from {low} to {high} after the Modality LUT ({bits} bits stored), but the model normalises from the fixed range {in_min} to {in_max}: values outside it would be scored wrongly, so no score is given.</source>
        <translation>この画像の画素値は Modality LUT 適用後 {low}～{high} です（格納ビット数 {bits}）。このモデルは固定範囲 {in_min}～{in_max} から正規化するため、範囲外の値は正しく評価されません。スコアは表示しません。</translation>
    </message>
</context>
<context>
    <name>Monitoring</name>
    <message>
        <source>Scores of &apos;{label}&apos; have shifted upward since {since} (mean {shift:+.2f}, KS D = {d:.3f}, p = {p:.2g}).</source>
        <translation>「{label}」のスコアが {since} 以降、上方にずれています（平均 {shift:+.2f}、KS D = {d:.3f}、p = {p:.2g}）。</translation>
    </message>
    <message>
        <source>Scores of &apos;{label}&apos; have shifted downward since {since} (mean {shift:+.2f}, KS D = {d:.3f}, p = {p:.2g}).</source>
        <translation>「{label}」のスコアが {since} 以降、下方にずれています（平均 {shift:+.2f}、KS D = {d:.3f}、p = {p:.2g}）。</translation>
    </message>
    <message>
        <source>{tag} of the images differ from the reference since {since} (KS D = {d:.3f}).</source>
        <translation>{since} 以降、画像の{tag}が基準と異なっています（KS D = {d:.3f}）。</translation>
    </message>
    <message>
        <source>{share:.0f} % of images now come from a new manufacturer (&apos;{name}&apos;), unseen in the reference.</source>
        <translation>画像の {share:.0f} % が、基準にない新しい製造元「{name}」のものになっています。</translation>
    </message>
    <message>
        <source>{share:.0f} % of images now carry a new {tag} value (&apos;{name}&apos;), unseen in the reference.</source>
        <translation>画像の {share:.0f} % が、基準にない新しい{tag}の値「{name}」になっています。</translation>
    </message>
    <message>
        <source>The {tag} mix has changed since {since}: &apos;{name}&apos; is {share:.0f} % of images (reference {reference:.0f} %; chi-square p = {p:.2g}).</source>
        <translation>{since} 以降、{tag}の構成が変わっています：「{name}」が画像の {share:.0f} %（基準では {reference:.0f} %、カイ二乗 p = {p:.2g}）。</translation>
    </message>
    <message>
        <source>The {rate} has risen to {rate_pct:.0f} % over {n} cases (expected {center:.0f} %, control limits {lower:.0f} %-{upper:.0f} %).</source>
        <translation>{rate}が {n} 件で {rate_pct:.0f} % に上昇しました（想定 {center:.0f} %、管理限界 {lower:.0f} %～{upper:.0f} %）。</translation>
    </message>
    <message>
        <source>The {rate} has fallen to {rate_pct:.0f} % over {n} cases (expected {center:.0f} %, control limits {lower:.0f} %-{upper:.0f} %).</source>
        <translation>{rate}が {n} 件で {rate_pct:.0f} % に低下しました（想定 {center:.0f} %、管理限界 {lower:.0f} %～{upper:.0f} %）。</translation>
    </message>
    <message>
        <source>No drift detected in the last {days:g} days.</source>
        <translation>直近 {days:g} 日間にドリフトは検出されませんでした。</translation>
    </message>
    <message>
        <source>No drift detected in the last {cases} cases.</source>
        <translation>直近 {cases} 件にドリフトは検出されませんでした。</translation>
    </message>
    <message>
        <source>Monitoring unavailable: this model version&apos;s bundle carries no reference profile (score distribution or input mix), so scores and inputs cannot be compared; the rate charts use the site&apos;s own history.</source>
        <translation>モニタリングは利用できません：このモデルバージョンのバンドルには基準プロファイル（スコア分布や入力構成）がないため、スコアと入力を比較できません。率のチャートはこの施設自身の履歴を使います。</translation>
    </message>
    <message>
        <source>View Position</source>
        <translation>撮影方向（View Position）</translation>
    </message>
    <message>
        <source>Manufacturer</source>
        <translation>製造元（Manufacturer）</translation>
    </message>
    <message>
        <source>Photometric Interpretation</source>
        <translation>画素表現（Photometric Interpretation）</translation>
    </message>
    <message>
        <source>Patient Sex</source>
        <translation>患者の性別（Patient Sex）</translation>
    </message>
    <message>
        <source>Bits Stored</source>
        <translation>格納ビット数（Bits Stored）</translation>
    </message>
    <message>
        <source>Rows</source>
        <translation>行数（Rows）</translation>
    </message>
    <message>
        <source>Columns</source>
        <translation>列数（Columns）</translation>
    </message>
    <message>
        <source>Pixel Spacing (row, mm)</source>
        <translation>画素間隔（Pixel Spacing、行方向、mm）</translation>
    </message>
    <message>
        <source>AI-positive rate</source>
        <translation>AI陽性率</translation>
    </message>
    <message>
        <source>refusal rate</source>
        <translation>判定拒否率</translation>
    </message>
    <message>
        <source>out-of-distribution refusal rate</source>
        <translation>分布外による判定拒否率</translation>
    </message>
    <message>
        <source>override rate</source>
        <translation>上書き率</translation>
    </message>
    <message>
        <source>own-read / AI disagreement</source>
        <translation>自己読影とAIの不一致率</translation>
    </message>
</context>
<context>
    <name>QtAiPanel</name>
    <message>
        <source>AI second reader</source>
        <translation>AIセカンドリーダー</translation>
    </message>
    <message>
        <source>AI second reader result</source>
        <translation>AIセカンドリーダーの結果</translation>
    </message>
    <message>
        <source>AI probability</source>
        <translation>AI確率</translation>
    </message>
    <message>
        <source>AI threshold and operating point</source>
        <translation>AIの閾値と動作点</translation>
    </message>
    <message>
        <source>AI finding</source>
        <translation>AI所見</translation>
    </message>
    <message>
        <source>AI model</source>
        <translation>AIモデル</translation>
    </message>
    <message>
        <source>Show the model&apos;s raw scores (not calibrated)</source>
        <translation>モデルの生スコアを表示（較正なし）</translation>
    </message>
    <message>
        <source>Show raw model scores</source>
        <translation>モデルの生スコアを表示</translation>
    </message>
    <message>
        <source>DEMO MODEL — NOT FOR CLINICAL USE: it was trained on synthetic images, so its output on real X-rays is meaningless.</source>
        <translation>デモモデル — 臨床使用不可：合成画像で学習したモデルのため、実際の X 線画像に対する出力には意味がありません。</translation>
    </message>
    <message>
        <source>Demo model warning</source>
        <translation>デモモデルの警告</translation>
    </message>
    <message>
        <source>Input warnings</source>
        <translation>入力に関する警告</translation>
    </message>
    <message>
        <source>AI result per label</source>
        <translation>ラベルごとのAI結果</translation>
    </message>
    <message>
        <source>Label</source>
        <translation>ラベル</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>スコア</translation>
    </message>
    <message>
        <source>Threshold</source>
        <translation>閾値</translation>
    </message>
    <message>
        <source>Finding</source>
        <translation>所見</translation>
    </message>
    <message>
        <source>Show heatmap</source>
        <translation>ヒートマップを表示</translation>
    </message>
    <message>
        <source>Show heatmap overlay</source>
        <translation>ヒートマップの重ね表示</translation>
    </message>
    <message>
        <source>Heatmap opacity</source>
        <translation>ヒートマップの不透明度</translation>
    </message>
    <message>
        <source>Heatmap (Grad-CAM): the regions of the image that most raised this label&apos;s score in the model. It is not a localisation of the finding and must not be used to locate, measure or rule out a lesion.</source>
        <translation>ヒートマップ（Grad-CAM）：モデルがこのラベルのスコアを高く算出する根拠となった画像領域です。所見の位置を示すものではなく、病変の位置特定・計測・除外には使用しないでください。</translation>
    </message>
    <message>
        <source>AI finding: {0} suggested (score at or above the threshold)</source>
        <translation>AI所見：{0}の疑いあり（スコアが閾値以上）</translation>
    </message>
    <message>
        <source>AI finding: no {0} suggested (score below the threshold)</source>
        <translation>AI所見：{0}の疑いなし（スコアが閾値未満）</translation>
    </message>
    <message>
        <source>Model: {0} {1}
Creator: {2}</source>
        <translation>モデル：{0} {1}
作成者：{2}</translation>
    </message>
    <message>
        <source>Intended use: {0}</source>
        <translation>使用目的：{0}</translation>
    </message>
    <message>
        <source>(not stated)</source>
        <translation>（記載なし）</translation>
    </message>
    <message>
        <source>Not for: {0}</source>
        <translation>対象外：{0}</translation>
    </message>
    <message>
        <source>Model: none</source>
        <translation>モデル：なし</translation>
    </message>
    <message>
        <source>Model: loading…</source>
        <translation>モデル：読み込み中…</translation>
    </message>
    <message>
        <source>Verifying and loading the model…</source>
        <translation>モデルを検証・読み込み中…</translation>
    </message>
    <message>
        <source>No AI result: {0}</source>
        <translation>AI結果なし：{0}</translation>
    </message>
    <message>
        <source>The model is running on this image…</source>
        <translation>この画像をモデルで解析中…</translation>
    </message>
    <message>
        <source>No AI score for this image: {0}</source>
        <translation>この画像のAIスコアはありません：{0}</translation>
    </message>
    <message>
        <source>Read first: the AI result is hidden until you record your own provisional finding below.</source>
        <translation>先に読影：下で暫定所見を記録するまで、AI結果は表示されません。</translation>
    </message>
    <message>
        <source>No image scored yet.</source>
        <translation>まだ解析された画像はありません。</translation>
    </message>
    <message>
        <source>AI result (a second opinion, not a diagnosis)</source>
        <translation>AI結果（セカンドオピニオンであり、診断ではありません）</translation>
    </message>
    <message>
        <source>{0}: {1}</source>
        <translation>{0}：{1}</translation>
    </message>
    <message>
        <source>Threshold {0}</source>
        <translation>閾値 {0}</translation>
    </message>
    <message>
        <source>Site threshold {0}, set {1} by {2}, from {3} local cases</source>
        <translation>施設閾値 {0}（{1} に {2} が設定、自施設 {3} 例に基づく）</translation>
    </message>
    <message>
        <source>positive</source>
        <translation>陽性</translation>
    </message>
    <message>
        <source>negative</source>
        <translation>陰性</translation>
    </message>
    <message>
        <source>Input warnings:</source>
        <translation>入力に関する警告：</translation>
    </message>
</context>
<context>
    <name>QtAnnotations</name>
    <message>
        <source>{0:.1f} mm</source>
        <translation>{0:.1f} mm</translation>
    </message>
    <message>
        <source>{0:.1f} px</source>
        <translation>{0:.1f} px</translation>
    </message>
    <message>
        <source>{0:.1f}°</source>
        <translation>{0:.1f}°</translation>
    </message>
    <message>
        <source>CTR {0}</source>
        <translation>心胸郭比 {0}</translation>
    </message>
    <message>
        <source>cardiac {0} / thoracic {1}</source>
        <translation>心臓 {0} / 胸郭 {1}</translation>
    </message>
    <message>
        <source>no pixels</source>
        <translation>画素なし</translation>
    </message>
    <message>
        <source>area {0:.1f} mm²</source>
        <translation>面積 {0:.1f} mm²</translation>
    </message>
    <message>
        <source>area {0:.0f} px²</source>
        <translation>面積 {0:.0f} px²</translation>
    </message>
    <message>
        <source>mean {0:.1f}  SD {1:.1f}</source>
        <translation>平均 {0:.1f}  SD {1:.1f}</translation>
    </message>
    <message>
        <source>min {0:.1f}  max {1:.1f}</source>
        <translation>最小 {0:.1f}  最大 {1:.1f}</translation>
    </message>
    <message>
        <source>Text annotation</source>
        <translation>テキスト注釈</translation>
    </message>
    <message>
        <source>Text (at most {0} characters):</source>
        <translation>テキスト（{0} 文字まで）:</translation>
    </message>
</context>
<context>
    <name>QtAuditWindow</name>
    <message>
        <source>Audit log</source>
        <translation>監査ログ</translation>
    </message>
    <message>
        <source>Filter</source>
        <translation>絞り込み</translation>
    </message>
    <message>
        <source>Dates</source>
        <translation>日付</translation>
    </message>
    <message>
        <source>Filter by date</source>
        <translation>日付で絞り込む</translation>
    </message>
    <message>
        <source>From:</source>
        <translation>開始日：</translation>
    </message>
    <message>
        <source>To:</source>
        <translation>終了日：</translation>
    </message>
    <message>
        <source>User:</source>
        <translation>ユーザー：</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>モデル：</translation>
    </message>
    <message>
        <source>Patient ID:</source>
        <translation>患者ID：</translation>
    </message>
    <message>
        <source>Event:</source>
        <translation>イベント：</translation>
    </message>
    <message>
        <source>From date (local)</source>
        <translation>開始日（現地時刻）</translation>
    </message>
    <message>
        <source>To date (local)</source>
        <translation>終了日（現地時刻）</translation>
    </message>
    <message>
        <source>User filter</source>
        <translation>ユーザーで絞り込み</translation>
    </message>
    <message>
        <source>name or account</source>
        <translation>氏名またはアカウント</translation>
    </message>
    <message>
        <source>Model filter</source>
        <translation>モデルで絞り込み</translation>
    </message>
    <message>
        <source>model id</source>
        <translation>モデルID</translation>
    </message>
    <message>
        <source>Patient ID filter</source>
        <translation>患者IDで絞り込み</translation>
    </message>
    <message>
        <source>searched by pseudonym</source>
        <translation>仮名IDで検索されます</translation>
    </message>
    <message>
        <source>The log never stores patient IDs. The ID you type is turned into its pseudonym, which is what is searched.</source>
        <translation>監査ログに患者IDは保存されません。入力したIDは仮名IDに変換され、その仮名IDで検索します。</translation>
    </message>
    <message>
        <source>All events</source>
        <translation>すべてのイベント</translation>
    </message>
    <message>
        <source>Event type filter</source>
        <translation>イベント種別で絞り込み</translation>
    </message>
    <message>
        <source>Source:</source>
        <translation>表示元:</translation>
    </message>
    <message>
        <source>Workstation:</source>
        <translation>端末:</translation>
    </message>
    <message>
        <source>This workstation</source>
        <translation>この端末</translation>
    </message>
    <message>
        <source>Department store (all workstations)</source>
        <translation>部門の監査ストア（全端末）</translation>
    </message>
    <message>
        <source>Audit records source</source>
        <translation>監査記録の表示元</translation>
    </message>
    <message>
        <source>The department audit store holds a copy of every workstation&apos;s log that its writers cannot change.</source>
        <translation>部門の監査ストアには、各端末のログの写しが書き込み側から変更できない形で保管されています。</translation>
    </message>
    <message>
        <source>Workstation filter</source>
        <translation>端末での絞り込み</translation>
    </message>
    <message>
        <source>All workstations</source>
        <translation>すべての端末</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>適用</translation>
    </message>
    <message>
        <source>Apply the filter</source>
        <translation>絞り込みを適用</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>クリア</translation>
    </message>
    <message>
        <source>Clear the filter</source>
        <translation>絞り込みをクリア</translation>
    </message>
    <message>
        <source>Audit records</source>
        <translation>監査記録</translation>
    </message>
    <message>
        <source>Verify log</source>
        <translation>ログを検証</translation>
    </message>
    <message>
        <source>Verify the audit log&apos;s hash chain</source>
        <translation>監査ログのハッシュチェーンを検証</translation>
    </message>
    <message>
        <source>Verification result</source>
        <translation>検証結果</translation>
    </message>
    <message>
        <source>Verify with checkpoint files…</source>
        <translation>チェックポイントファイルで検証…</translation>
    </message>
    <message>
        <source>Verify the log against checkpoints saved with earlier reports</source>
        <translation>以前のレポートと共に保存したチェックポイントでログを検証</translation>
    </message>
    <message>
        <source>Each exported report saves a signed checkpoint (row count and last hash). Checking against earlier checkpoints detects rows removed from the end.</source>
        <translation>レポートを出力するたびに、署名付きチェックポイント（行数と最後のハッシュ）が保存されます。以前のチェックポイントと照合すると、末尾から削除された行を検出できます。</translation>
    </message>
    <message>
        <source>Selected record</source>
        <translation>選択した記録</translation>
    </message>
    <message>
        <source>Select a row to see the whole record.</source>
        <translation>行を選択すると記録の全項目が表示されます。</translation>
    </message>
    <message>
        <source>Export as:</source>
        <translation>出力形式：</translation>
    </message>
    <message>
        <source>PDF report</source>
        <translation>PDFレポート</translation>
    </message>
    <message>
        <source>CSV (spreadsheet)</source>
        <translation>CSV（表計算用）</translation>
    </message>
    <message>
        <source>JSON (machine-readable)</source>
        <translation>JSON（機械可読）</translation>
    </message>
    <message>
        <source>Export format</source>
        <translation>出力形式</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>出力…</translation>
    </message>
    <message>
        <source>Export the audit report</source>
        <translation>監査レポートを出力</translation>
    </message>
    <message>
        <source>Export progress</source>
        <translation>出力の進捗</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>Cancel the export</source>
        <translation>出力をキャンセル</translation>
    </message>
    <message>
        <source>Open exported file</source>
        <translation>出力したファイルを開く</translation>
    </message>
    <message>
        <source>Open the exported file</source>
        <translation>出力したファイルを開く</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <source>Close the audit window</source>
        <translation>監査ログ画面を閉じる</translation>
    </message>
    <message>
        <source>Reading the audit log…</source>
        <translation>監査ログを読み込み中…</translation>
    </message>
    <message>
        <source>The department audit store cannot be read: {reason}</source>
        <translation>部門の監査ストアを読み取れません: {reason}</translation>
    </message>
    <message>
        <source>The audit log cannot be read: {reason}</source>
        <translation>監査ログを読み込めません：{reason}</translation>
    </message>
    <message>
        <source>Showing the latest {count} of {total} matching records; narrow the filter (dates, user, model) to see older ones. Exports include all of them.</source>
        <translation>該当する {total} 件のうち最新の {count} 件を表示しています。古い記録を見るには絞り込み（日付・ユーザー・モデル）を狭めてください。出力にはすべての記録が含まれます。</translation>
    </message>
    <message>
        <source>{count} records shown</source>
        <translation>{count} 件を表示</translation>
    </message>
    <message>
        <source>Checkpoint files from earlier reports</source>
        <translation>以前のレポートのチェックポイントファイル</translation>
    </message>
    <message>
        <source>Checkpoints (*.json);;All files (*)</source>
        <translation>チェックポイント (*.json);;すべてのファイル (*)</translation>
    </message>
    <message>
        <source>Verifying…</source>
        <translation>検証中…</translation>
    </message>
    <message>
        <source>✘ Verification could not run: {reason}</source>
        <translation>✘ 検証を実行できませんでした：{reason}</translation>
    </message>
    <message>
        <source>✔ This workstation&apos;s log ({local} rows) matches the department store; {chains} workstation chain(s) in the store verified.</source>
        <translation>✔ この端末のログ（{local} 行）は部門の監査ストアと一致しています。ストア内の {chains} 端末分のチェーンを検証しました。</translation>
    </message>
    <message>
        <source>✘ THE LOG DOES NOT MATCH THE DEPARTMENT STORE. {findings}</source>
        <translation>✘ ログが部門の監査ストアと一致しません。{findings}</translation>
    </message>
    <message>
        <source>Not verified yet.</source>
        <translation>未検証です。</translation>
    </message>
    <message>
        <source>✔ Log intact: {count} rows verified, hash chain unbroken.</source>
        <translation>✔ ログは改ざんされていません：{count} 行を検証、ハッシュチェーンは正常です。</translation>
    </message>
    <message>
        <source>{n} checkpoint file(s) matched.</source>
        <translation>チェックポイントファイル {n} 件と一致しました。</translation>
    </message>
    <message>
        <source>first bad row: #{row}</source>
        <translation>最初の不正な行：#{row}</translation>
    </message>
    <message>
        <source>rows are missing</source>
        <translation>行が欠落しています</translation>
    </message>
    <message>
        <source>✘ LOG ALTERED ({where}). {message}</source>
        <translation>✘ ログが改ざんされています（{where}）。{message}</translation>
    </message>
    <message>
        <source>(This verification could not be recorded in the log.)</source>
        <translation>（この検証はログに記録できませんでした。）</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>PDFファイル (*.pdf)</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSVファイル (*.csv)</translation>
    </message>
    <message>
        <source>JSON files (*.json)</source>
        <translation>JSONファイル (*.json)</translation>
    </message>
    <message>
        <source>Exporting {file}…</source>
        <translation>{file} を出力中…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>キャンセル中…</translation>
    </message>
    <message>
        <source>Export cancelled; no file was kept.</source>
        <translation>出力をキャンセルしました。ファイルは残っていません。</translation>
    </message>
    <message>
        <source>Exported {rows} records to {path}. Its signed checkpoint was saved as {checkpoint}: keep it to detect later truncation.</source>
        <translation>{rows} 件を {path} に出力しました。署名付きチェックポイントを {checkpoint} として保存しました。後から行が削除されていないか確認するために保管してください。</translation>
    </message>
    <message>
        <source>Exported {rows} records to {path}, but the log FAILED verification; the report says so on every page.</source>
        <translation>{rows} 件を {path} に出力しましたが、ログの検証に失敗しています。レポートの全ページにその旨が記載されています。</translation>
    </message>
    <message>
        <source>Export failed: {reason}</source>
        <translation>出力に失敗しました：{reason}</translation>
    </message>
</context>
<context>
    <name>QtComparisonWindow</name>
    <message>
        <source>Compare model versions</source>
        <translation>モデルバージョンの比較</translation>
    </message>
    <message>
        <source>A candidate version against the active one, on this site&apos;s images that a clinician decided and both versions scored (the candidate in shadow mode).</source>
        <translation>候補バージョンと有効なバージョンを、この施設で臨床医が判定し両バージョンが評価した画像で比較します（候補はシャドーモードで評価）。</translation>
    </message>
    <message>
        <source>The reference standard is the clinicians&apos; final decisions. They have errors of their own and were made with the active model&apos;s result in view: these figures measure agreement with local practice, not accuracy against the truth.</source>
        <translation>参照基準は臨床医の最終判定です。判定自体にも誤りがあり、有効なモデルの結果を見ながら行われています。これらの数値は施設の診療との一致度を示すもので、真の正確度ではありません。</translation>
    </message>
    <message>
        <source>Candidate</source>
        <translation>候補</translation>
    </message>
    <message>
        <source>Against</source>
        <translation>比較対象</translation>
    </message>
    <message>
        <source>Label</source>
        <translation>ラベル</translation>
    </message>
    <message>
        <source>Non-inferiority margin</source>
        <translation>非劣性マージン</translation>
    </message>
    <message>
        <source>Candidate version</source>
        <translation>候補バージョン</translation>
    </message>
    <message>
        <source>Version to compare against</source>
        <translation>比較対象のバージョン</translation>
    </message>
    <message>
        <source>Label to compare</source>
        <translation>比較するラベル</translation>
    </message>
    <message>
        <source>the candidate&apos;s first label</source>
        <translation>候補の最初のラベル</translation>
    </message>
    <message>
        <source>Non-inferiority margin in sensitivity</source>
        <translation>感度の非劣性マージン</translation>
    </message>
    <message>
        <source>none</source>
        <translation>なし</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>比較</translation>
    </message>
    <message>
        <source>Compare the two versions</source>
        <translation>2つのバージョンを比較</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <source>Close the comparison window</source>
        <translation>比較ウィンドウを閉じる</translation>
    </message>
    <message>
        <source>Comparison report</source>
        <translation>比較レポート</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状態</translation>
    </message>
    <message>
        <source>About the reference standard</source>
        <translation>参照基準について</translation>
    </message>
    <message>
        <source>Reading the model store…</source>
        <translation>モデルストアを読み込んでいます…</translation>
    </message>
    <message>
        <source>Reading the audit log and comparing…</source>
        <translation>監査ログを読み込んで比較しています…</translation>
    </message>
    <message>
        <source>Nothing to compare yet (see the report).</source>
        <translation>まだ比較できるものがありません（レポートを参照）。</translation>
    </message>
    <message>
        <source>Compared on {0} paired cases.</source>
        <translation>{0} 件のペア症例で比較しました。</translation>
    </message>
    <message>
        <source>The comparison failed: {0}</source>
        <translation>比較に失敗しました: {0}</translation>
    </message>
    <message>
        <source>No candidate: install one as shadow in the model manager and let it score.</source>
        <translation>候補がありません。モデルマネージャーでシャドーとしてインストールし、評価させてください。</translation>
    </message>
</context>
<context>
    <name>QtDecisionPanel</name>
    <message>
        <source>Confirmed</source>
        <translation>確定</translation>
    </message>
    <message>
        <source>Overridden</source>
        <translation>上書き</translation>
    </message>
    <message>
        <source>Not decided yet.</source>
        <translation>まだ判定していません。</translation>
    </message>
    <message>
        <source>An override needs a reason: choose one from the list or type it.</source>
        <translation>上書きには理由が必要です。一覧から選ぶか入力してください。</translation>
    </message>
    <message>
        <source>Saved {0} — Amended: {1}</source>
        <translation>保存済み {0} — 修正：{1}</translation>
    </message>
    <message>
        <source>Saved {0} — {1}</source>
        <translation>保存済み {0} — {1}</translation>
    </message>
    <message>
        <source>NOT saved: {0}
Your decision is still here; press the button again to retry.</source>
        <translation>保存されていません：{0}
判定内容は残っています。もう一度ボタンを押して再試行してください。</translation>
    </message>
    <message>
        <source>Amending the decision saved at {0}: choose the corrected decision. The earlier one stays in the log.</source>
        <translation>{0} に保存した判定を修正します：修正後の判定を選んでください。以前の判定はログに残ります。</translation>
    </message>
    <message>
        <source>Your decision</source>
        <translation>あなたの判定</translation>
    </message>
    <message>
        <source>— choose —</source>
        <translation>— 選択 —</translation>
    </message>
    <message>
        <source>agree</source>
        <translation>同意</translation>
    </message>
    <message>
        <source>reject</source>
        <translation>却下</translation>
    </message>
    <message>
        <source>Agree or reject {0}</source>
        <translation>{0} に同意または却下</translation>
    </message>
    <message>
        <source>reason, if rejected</source>
        <translation>却下する場合の理由</translation>
    </message>
    <message>
        <source>Reason for rejecting {0}</source>
        <translation>{0} を却下する理由</translation>
    </message>
    <message>
        <source>{0} present</source>
        <translation>{0}：所見あり</translation>
    </message>
    <message>
        <source>{0} absent</source>
        <translation>{0}：所見なし</translation>
    </message>
    <message>
        <source>Uncertain</source>
        <translation>判断保留</translation>
    </message>
    <message>
        <source>Or decide each positive finding (Confirm / Override act on all of them):</source>
        <translation>または陽性所見ごとに判定（確定／上書きはすべての陽性所見に適用されます）：</translation>
    </message>
    <message>
        <source>Finding</source>
        <translation>所見</translation>
    </message>
    <message>
        <source>Your call</source>
        <translation>判定</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>Decision per finding</source>
        <translation>所見ごとの判定</translation>
    </message>
    <message>
        <source>Findings the AI missed (names, comma-separated)</source>
        <translation>AI が見落とした所見（名前をカンマ区切りで）</translation>
    </message>
    <message>
        <source>Findings the AI missed</source>
        <translation>AI が見落とした所見</translation>
    </message>
    <message>
        <source>Save decisions per finding</source>
        <translation>所見ごとの判定を保存</translation>
    </message>
    <message>
        <source>Save the decision for each finding</source>
        <translation>各所見の判定を保存</translation>
    </message>
    <message>
        <source>Your own read (provisional finding):</source>
        <translation>ご自身の読影（暫定所見）：</translation>
    </message>
    <message>
        <source>Provisional finding</source>
        <translation>暫定所見</translation>
    </message>
    <message>
        <source>Record my read</source>
        <translation>読影を記録</translation>
    </message>
    <message>
        <source>Record my provisional finding</source>
        <translation>暫定所見を記録</translation>
    </message>
    <message>
        <source>Confirm AI finding</source>
        <translation>AI所見を確定</translation>
    </message>
    <message>
        <source>Confirm the AI finding</source>
        <translation>AI所見を確定する</translation>
    </message>
    <message>
        <source>Agree with the AI finding ({0})</source>
        <translation>AI所見に同意（{0}）</translation>
    </message>
    <message>
        <source>Override</source>
        <translation>上書き</translation>
    </message>
    <message>
        <source>Override the AI finding</source>
        <translation>AI所見を上書きする</translation>
    </message>
    <message>
        <source>Disagree with the AI finding; a reason is required ({0})</source>
        <translation>AI所見に同意しない。理由が必要です（{0}）</translation>
    </message>
    <message>
        <source>Reason for an override:</source>
        <translation>上書きの理由：</translation>
    </message>
    <message>
        <source>Override reason</source>
        <translation>上書きの理由</translation>
    </message>
    <message>
        <source>Finding not present on my read</source>
        <translation>読影で所見を認めない</translation>
    </message>
    <message>
        <source>Finding present but missed by the AI</source>
        <translation>所見があるがAIが見逃した</translation>
    </message>
    <message>
        <source>Image quality or positioning</source>
        <translation>画質またはポジショニングの問題</translation>
    </message>
    <message>
        <source>Artefact, device or line</source>
        <translation>アーチファクト・デバイス・ライン類</translation>
    </message>
    <message>
        <source>Prior imaging or clinical context</source>
        <translation>過去画像または臨床情報による判断</translation>
    </message>
    <message>
        <source>Outside the model&apos;s intended use</source>
        <translation>モデルの使用目的の範囲外</translation>
    </message>
    <message>
        <source>Choose or type a reason</source>
        <translation>理由を選択または入力</translation>
    </message>
    <message>
        <source>Amend decision…</source>
        <translation>判定を修正…</translation>
    </message>
    <message>
        <source>Amend the saved decision</source>
        <translation>保存済みの判定を修正</translation>
    </message>
    <message>
        <source>Record a corrected decision; the earlier one stays in the log ({0})</source>
        <translation>修正した判定を記録します。以前の判定はログに残ります（{0}）</translation>
    </message>
    <message>
        <source>Decision status</source>
        <translation>判定の状態</translation>
    </message>
</context>
<context>
    <name>QtExport</name>
    <message>
        <source>No image on screen to export or print.</source>
        <translation>書き出しまたは印刷する画像が表示されていません。</translation>
    </message>
    <message>
        <source>Audit log write failed: {0}</source>
        <translation>監査ログへの書き込みに失敗しました: {0}</translation>
    </message>
    <message>
        <source>Export view as PNG</source>
        <translation>表示を PNG として書き出し</translation>
    </message>
    <message>
        <source>PNG image (*.png)</source>
        <translation>PNG 画像 (*.png)</translation>
    </message>
    <message>
        <source>The view was NOT saved</source>
        <translation>表示は保存されていません</translation>
    </message>
    <message>
        <source>Saved the view to {0}</source>
        <translation>表示を {0} に保存しました</translation>
    </message>
    <message>
        <source>printed {0}</source>
        <translation>印刷 {0}</translation>
    </message>
    <message>
        <source>de-identified (DICOM PS3.15 Basic Profile)</source>
        <translation>匿名化済み (DICOM PS3.15 Basic Profile)</translation>
    </message>
    <message>
        <source>image only, no overlays</source>
        <translation>画像のみ、オーバーレイなし</translation>
    </message>
    <message>
        <source>The view was NOT printed</source>
        <translation>表示は印刷されていません</translation>
    </message>
    <message>
        <source>The printer or its output file could not be opened.</source>
        <translation>プリンターまたは出力ファイルを開けませんでした。</translation>
    </message>
    <message>
        <source>Sent the view to the printer.</source>
        <translation>表示をプリンターに送りました。</translation>
    </message>
</context>
<context>
    <name>QtExportDialog</name>
    <message>
        <source>Export view as PNG</source>
        <translation>表示を PNG として書き出し</translation>
    </message>
    <message>
        <source>Print view</source>
        <translation>表示を印刷</translation>
    </message>
    <message>
        <source>Include overlays and annotations (corner text, measurement, heatmap)</source>
        <translation>オーバーレイと注釈を含める (四隅の文字、計測、ヒートマップ)</translation>
    </message>
    <message>
        <source>Include overlays and annotations</source>
        <translation>オーバーレイと注釈を含める</translation>
    </message>
    <message>
        <source>Header</source>
        <translation>ヘッダー</translation>
    </message>
    <message>
        <source>De-identified: no patient name, ID, birth date, sex, accession number or study date (DICOM PS3.15 Basic Profile)</source>
        <translation>匿名化: 患者名、ID、生年月日、性別、受付番号、検査日を含めない (DICOM PS3.15 Basic Profile)</translation>
    </message>
    <message>
        <source>De-identified header</source>
        <translation>匿名化したヘッダー</translation>
    </message>
    <message>
        <source>Full: patient name, ID and study date as in the file</source>
        <translation>完全: ファイルのとおり患者名、ID、検査日を含める</translation>
    </message>
    <message>
        <source>Full header</source>
        <translation>完全なヘッダー</translation>
    </message>
    <message>
        <source>This file declares text burned into its pixels (Burned In Annotation: YES). A de-identified header does not remove it: look at the picture before sharing.</source>
        <translation>このファイルは画素に文字が焼き込まれていると宣言しています (Burned In Annotation: YES)。ヘッダーを匿名化してもその文字は消えません。共有する前に画像を確認してください。</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>書き出し…</translation>
    </message>
    <message>
        <source>Print…</source>
        <translation>印刷…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
</context>
<context>
    <name>QtForwardingStatus</name>
    <message>
        <source>Audit forwarding status</source>
        <translation>監査ログの転送状況</translation>
    </message>
    <message>
        <source>{0}: forwarding status</source>
        <translation>{0}：転送状況</translation>
    </message>
    <message>
        <source>Hospital audit repository (ATNA)</source>
        <translation>病院の監査リポジトリ（ATNA）</translation>
    </message>
    <message>
        <source>Department audit store</source>
        <translation>部門の監査ストア</translation>
    </message>
    <message>
        <source>1 row</source>
        <translation>1 行</translation>
    </message>
    <message>
        <source>{0} rows</source>
        <translation>{0} 行</translation>
    </message>
    <message>
        <source>{0}: up to date</source>
        <translation>{0}：転送済み（最新）</translation>
    </message>
    <message>
        <source>{0}: {1} waiting to be sent</source>
        <translation>{0}：{1}が送信待ち</translation>
    </message>
    <message>
        <source>{0}: {1} refused and held, {2} waiting since {3}</source>
        <translation>{0}：{1}が受け付けを拒否され保留中、{3} から {2}が送信待ち</translation>
    </message>
    <message>
        <source>{0}: {1} waiting since {2}</source>
        <translation>{0}：{2} から {1}が送信待ち</translation>
    </message>
    <message>
        <source>{0}: not forwarding</source>
        <translation>{0}：転送していません</translation>
    </message>
    <message>
        <source>never</source>
        <translation>なし</translation>
    </message>
    <message>
        <source>Waiting: {0} (refused and held: {1}); sent so far: {2}</source>
        <translation>送信待ち：{0} 行（拒否され保留中：{1} 行）、送信済み：{2} 行</translation>
    </message>
    <message>
        <source>Oldest waiting row queued: {0}</source>
        <translation>最も古い送信待ちの行の登録時刻：{0}</translation>
    </message>
    <message>
        <source>Failing since: {0}</source>
        <translation>失敗が始まった時刻：{0}</translation>
    </message>
    <message>
        <source>Last sent: {0}</source>
        <translation>最終送信：{0}</translation>
    </message>
    <message>
        <source>Queue: {0}</source>
        <translation>送信キュー：{0}</translation>
    </message>
    <message>
        <source>Every row stays in this workstation&apos;s audit log and its queue; nothing is lost. Tell IT.</source>
        <translation>すべての行はこの端末の監査ログと送信キューに残っており、失われません。IT部門に連絡してください。</translation>
    </message>
    <message>
        <source>Refused rows are kept; once IT resolved why: {0}</source>
        <translation>拒否された行は保管されています。IT部門が原因を解決したら：{0}</translation>
    </message>
    <message>
        <source>Details for IT: {0}</source>
        <translation>IT部門向けの詳細：{0}</translation>
    </message>
    <message>
        <source>{0}: status unknown — {1}</source>
        <translation>{0}：状況不明 — {1}</translation>
    </message>
</context>
<context>
    <name>QtHelp</name>
    <message>
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <source>Close this page</source>
        <translation>このページを閉じる</translation>
    </message>
    <message>
        <source>Scroll the page</source>
        <translation>ページをスクロール</translation>
    </message>
    <message>
        <source>Scroll the page sideways</source>
        <translation>ページを横にスクロール</translation>
    </message>
</context>
<context>
    <name>QtImageView</name>
    <message>
        <source>{0:.1f} px (no pixel spacing in the file: not a physical length)</source>
        <translation>{0:.1f} px（ファイルにピクセル間隔がないため、実寸ではありません）</translation>
    </message>
    <message>
        <source>Pixel Spacing (0028,0030)</source>
        <translation>Pixel Spacing (0028,0030)</translation>
    </message>
    <message>
        <source>Imager Pixel Spacing corrected for magnification</source>
        <translation>拡大率補正済みの Imager Pixel Spacing</translation>
    </message>
    <message>
        <source>Imager Pixel Spacing (0018,1164): at the detector, not corrected for magnification</source>
        <translation>Imager Pixel Spacing (0018,1164)：検出器面での値、拡大率は未補正</translation>
    </message>
    <message>
        <source>{0:.1f} mm ({1})</source>
        <translation>{0:.1f} mm（{1}）</translation>
    </message>
    <message>
        <source>Image view</source>
        <translation>画像表示</translation>
    </message>
    <message>
        <source>Preview at reduced resolution: loading the full image…</source>
        <translation>低解像度のプレビュー:完全な画像を読み込み中…</translation>
    </message>
    <message>
        <source>Open a DICOM file or folder (File menu), or drop it here.</source>
        <translation>DICOMファイルまたはフォルダを開く（ファイルメニュー）か、ここにドロップしてください。</translation>
    </message>
    <message>
        <source>(no name)</source>
        <translation>（氏名なし）</translation>
    </message>
    <message>
        <source>De-identified</source>
        <translation>匿名化済み</translation>
    </message>
    <message>
        <source>view ?</source>
        <translation>撮影方向 ?</translation>
    </message>
    <message>
        <source>Laterality: {0}</source>
        <translation>左右：{0}</translation>
    </message>
    <message>
        <source>W {0:.0f}  C {1:.0f}</source>
        <translation>W {0:.0f}  C {1:.0f}</translation>
    </message>
    <message>
        <source>Inverted</source>
        <translation>白黒反転</translation>
    </message>
    <message>
        <source>rot {0}°</source>
        <translation>回転 {0}°</translation>
    </message>
    <message>
        <source>flipped</source>
        <translation>左右反転</translation>
    </message>
    <message>
        <source>Zoom {0:.0f}%</source>
        <translation>拡大率 {0:.0f}%</translation>
    </message>
</context>
<context>
    <name>QtIntendedUse</name>
    <message>
        <source>Intended use of the model</source>
        <translation>モデルの使用目的</translation>
    </message>
    <message>
        <source>the model is still loading.</source>
        <translation>モデルはまだ読み込み中です。</translation>
    </message>
    <message>
        <source>No model is loaded: {0}</source>
        <translation>モデルが読み込まれていません：{0}</translation>
    </message>
    <message>
        <source>Demo model — NOT for clinical use.</source>
        <translation>デモモデル — 臨床使用不可。</translation>
    </message>
</context>
<context>
    <name>QtMainWindow</name>
    <message>
        <source>Bedside — DEMO</source>
        <translation>Bedside — デモ</translation>
    </message>
    <message>
        <source>Bedside</source>
        <translation>Bedside</translation>
    </message>
    <message>
        <source>DEMO MODEL — NOT FOR CLINICAL USE</source>
        <translation>デモモデル — 臨床使用不可</translation>
    </message>
    <message>
        <source>Demo mode warning</source>
        <translation>デモモードの警告</translation>
    </message>
    <message>
        <source>Studies</source>
        <translation>検査</translation>
    </message>
    <message>
        <source>Worklist</source>
        <translation>ワークリスト</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>表示(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Annotate</source>
        <translation>注釈(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Layout</source>
        <translation>レイアウト(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Image</source>
        <translation>画像(&amp;I)</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>ツール(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
        <source>Open file…</source>
        <translation>ファイルを開く…</translation>
    </message>
    <message>
        <source>Open folder…</source>
        <translation>フォルダを開く…</translation>
    </message>
    <message>
        <source>Open DICOMDIR…</source>
        <translation>DICOMDIRを開く…</translation>
    </message>
    <message>
        <source>Search PACS…</source>
        <translation>PACS を検索…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>終了</translation>
    </message>
    <message>
        <source>Export view as PNG…</source>
        <translation>表示を PNG として書き出し…</translation>
    </message>
    <message>
        <source>Print…</source>
        <translation>印刷…</translation>
    </message>
    <message>
        <source>Next image</source>
        <translation>次の画像</translation>
    </message>
    <message>
        <source>Previous image</source>
        <translation>前の画像</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>全体表示</translation>
    </message>
    <message>
        <source>1:1</source>
        <translation>等倍</translation>
    </message>
    <message>
        <source>Invert</source>
        <translation>白黒反転</translation>
    </message>
    <message>
        <source>Rotate 90°</source>
        <translation>90°回転</translation>
    </message>
    <message>
        <source>Flip</source>
        <translation>左右反転</translation>
    </message>
    <message>
        <source>Reset view</source>
        <translation>表示をリセット</translation>
    </message>
    <message>
        <source>Pan</source>
        <translation>移動</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>計測</translation>
    </message>
    <message>
        <source>Clear measurement</source>
        <translation>計測を消去</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>距離</translation>
    </message>
    <message>
        <source>Angle</source>
        <translation>角度</translation>
    </message>
    <message>
        <source>Rectangle ROI</source>
        <translation>矩形 ROI</translation>
    </message>
    <message>
        <source>Ellipse ROI</source>
        <translation>楕円 ROI</translation>
    </message>
    <message>
        <source>Cardiothoracic ratio</source>
        <translation>心胸郭比</translation>
    </message>
    <message>
        <source>Arrow</source>
        <translation>矢印</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>テキスト</translation>
    </message>
    <message>
        <source>Delete the selected annotation</source>
        <translation>選択した注釈を削除</translation>
    </message>
    <message>
        <source>DICOM tags…</source>
        <translation>DICOMタグ…</translation>
    </message>
    <message>
        <source>Show heatmap</source>
        <translation>ヒートマップを表示</translation>
    </message>
    <message>
        <source>Model manager…</source>
        <translation>モデル管理…</translation>
    </message>
    <message>
        <source>Reload model</source>
        <translation>モデルを再読み込み</translation>
    </message>
    <message>
        <source>Audit log…</source>
        <translation>監査ログ…</translation>
    </message>
    <message>
        <source>Monitoring…</source>
        <translation>モニタリング…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>設定…</translation>
    </message>
    <message>
        <source>About Bedside</source>
        <translation>Bedsideについて</translation>
    </message>
    <message>
        <source>First image</source>
        <translation>最初の画像</translation>
    </message>
    <message>
        <source>Last image</source>
        <translation>最後の画像</translation>
    </message>
    <message>
        <source>Next case not decided yet</source>
        <translation>次の未判定の症例</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>拡大</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>縮小</translation>
    </message>
    <message>
        <source>Full screen</source>
        <translation>全画面表示</translation>
    </message>
    <message>
        <source>User guide</source>
        <translation>利用者ガイド</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>キーボードショートカット</translation>
    </message>
    <message>
        <source>Intended use of the model</source>
        <translation>モデルの使用目的</translation>
    </message>
    <message>
        <source>One viewport (1x1)</source>
        <translation>1画面 (1x1)</translation>
    </message>
    <message>
        <source>Two viewports side by side (1x2)</source>
        <translation>2画面横並び (1x2)</translation>
    </message>
    <message>
        <source>Four viewports (2x2)</source>
        <translation>4画面 (2x2)</translation>
    </message>
    <message>
        <source>Synchronise zoom and pan</source>
        <translation>ズームと移動を同期</translation>
    </message>
    <message>
        <source>Open the prior</source>
        <translation>過去画像を開く</translation>
    </message>
    <message>
        <source>Window:</source>
        <translation>ウィンドウ：</translation>
    </message>
    <message>
        <source>Viewport layout</source>
        <translation>画面レイアウト</translation>
    </message>
    <message>
        <source>Layout:</source>
        <translation>レイアウト:</translation>
    </message>
    <message>
        <source>Viewports: the AI result and the decision belong to the top-left image</source>
        <translation>画面分割: AI の結果と判定は左上の画像に対するものです</translation>
    </message>
    <message>
        <source>Window presets</source>
        <translation>ウィンドウのプリセット</translation>
    </message>
    <message>
        <source>Stored windows first (one outside the image&apos;s values last); keys 1-9 select a preset</source>
        <translation>ファイルに保存されたウィンドウが先頭です（画像の値の範囲外のものは最後）。1〜9キーでプリセットを選択します</translation>
    </message>
    <message>
        <source>View tools</source>
        <translation>表示ツール</translation>
    </message>
    <message>
        <source>Annotate</source>
        <translation>注釈</translation>
    </message>
    <message>
        <source>Annotation tools</source>
        <translation>注釈ツール</translation>
    </message>
    <message>
        <source>Distance, angle, ROI, cardiothoracic ratio, arrow and text</source>
        <translation>距離、角度、ROI、心胸郭比、矢印、テキスト</translation>
    </message>
    <message>
        <source>More tools</source>
        <translation>その他のツール</translation>
    </message>
    <message>
        <source>Measurement</source>
        <translation>計測</translation>
    </message>
    <message>
        <source>Scroll the AI result and decision panels</source>
        <translation>AI 結果と判定パネルをスクロール</translation>
    </message>
    <message>
        <source>Scroll the AI result and decision panels sideways</source>
        <translation>AI結果と判定のパネルを横にスクロール</translation>
    </message>
    <message>
        <source>Clinician: {0}</source>
        <translation>医師：{0}</translation>
    </message>
    <message>
        <source>Clinician: not named (account {0}) — set your name in Settings</source>
        <translation>医師：氏名未設定（アカウント {0}）— 設定で氏名を入力してください</translation>
    </message>
    <message>
        <source>Model: {0} {1}</source>
        <translation>モデル：{0} {1}</translation>
    </message>
    <message>
        <source>Model: loading…</source>
        <translation>モデル：読み込み中…</translation>
    </message>
    <message>
        <source>Model: not available</source>
        <translation>モデル：利用できません</translation>
    </message>
    <message>
        <source>The audit log cannot be opened: {0}</source>
        <translation>監査ログを開けません：{0}</translation>
    </message>
    <message>
        <source>The AI engine cannot be loaded: this installation is damaged; IT must reinstall Bedside. Images can still be read; no AI result is shown.</source>
        <translation>AI エンジンを読み込めません。このインストールは破損しています。IT 担当者が Bedside を再インストールする必要があります。画像は引き続き読影できますが、AI の結果は表示されません。</translation>
    </message>
    <message>
        <source>The saved annotations cannot be shown: {0}</source>
        <translation>保存された注釈を表示できません: {0}</translation>
    </message>
    <message>
        <source>Open an image first, then its prior.</source>
        <translation>先に画像を開いてから、その過去画像を開いてください。</translation>
    </message>
    <message>
        <source>No prior study of this patient among the opened images (an earlier Study Date, the same Patient ID). Open the folder that holds it.</source>
        <translation>開いている画像の中に、この患者の過去の検査 (より前の検査日、同じ患者 ID) はありません。過去の検査があるフォルダーを開いてください。</translation>
    </message>
    <message>
        <source>Decision saved; its annotations were NOT saved: {0}</source>
        <translation>判定は保存されました。注釈は保存されていません: {0}</translation>
    </message>
    <message>
        <source> (too wide: not used by default)</source>
        <translation>（幅が広すぎるため既定では使用せず）</translation>
    </message>
    <message>
        <source>Audit log write failed: {0}</source>
        <translation>監査ログへの書き込みに失敗しました：{0}</translation>
    </message>
    <message>
        <source>The demo model bundle is missing from this installation ({0}); run &apos;make demo-bundle&apos;.</source>
        <translation>このインストールにはデモ用モデルバンドルがありません（{0}）。&apos;make demo-bundle&apos; を実行してください。</translation>
    </message>
    <message>
        <source>No model is installed and active. IT can install one in Tools &gt; Model manager.</source>
        <translation>有効なモデルがインストールされていません。IT部門が「ツール &gt; モデル管理」からインストールできます。</translation>
    </message>
    <message>
        <source>Open DICOM files</source>
        <translation>DICOMファイルを開く</translation>
    </message>
    <message>
        <source>DICOM files (*.dcm *.DCM *);;All files (*)</source>
        <translation>DICOMファイル (*.dcm *.DCM *);;すべてのファイル (*)</translation>
    </message>
    <message>
        <source>Open a folder of DICOM files</source>
        <translation>DICOMファイルのフォルダを開く</translation>
    </message>
    <message>
        <source>Open a DICOMDIR</source>
        <translation>DICOMDIRを開く</translation>
    </message>
    <message>
        <source>DICOMDIR (DICOMDIR dicomdir);;All files (*)</source>
        <translation>DICOMDIR (DICOMDIR dicomdir);;すべてのファイル (*)</translation>
    </message>
    <message>
        <source>This file cannot be shown: {0}</source>
        <translation>このファイルは表示できません：{0}</translation>
    </message>
    <message>
        <source>Every case in the worklist is decided.</source>
        <translation>ワークリストのすべての症例が判定済みです。</translation>
    </message>
    <message>
        <source>Prior {0} beside the current image; earlier studies found: {1}.</source>
        <translation>過去画像 {0} を現在の画像の隣に表示しました。見つかった過去の検査: {1} 件。</translation>
    </message>
    <message>
        <source>finding</source>
        <translation>所見</translation>
    </message>
    <message>
        <source>Heatmap not available: {0}</source>
        <translation>ヒートマップを表示できません：{0}</translation>
    </message>
    <message>
        <source>The audit log is not open; nothing can be saved.</source>
        <translation>監査ログが開かれていないため、何も保存できません。</translation>
    </message>
    <message>
        <source> (outside this image&apos;s values: not used by default)</source>
        <translation>（この画像の値の範囲外のため既定では使用せず）</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>カスタム</translation>
    </message>
    <message>
        <source>VOI LUT {0}</source>
        <translation>VOI LUT {0}</translation>
    </message>
    <message>
        <source>C {0} / W {1}</source>
        <translation>C {0} / W {1}</translation>
    </message>
    <message>
        <source>automatic: {0}</source>
        <translation>自動：{0}</translation>
    </message>
    <message>
        <source>Full range: {0}</source>
        <translation>全範囲：{0}</translation>
    </message>
    <message>
        <source>Lung: {0}</source>
        <translation>肺野：{0}</translation>
    </message>
    <message>
        <source>Mediastinum: {0}</source>
        <translation>縦隔：{0}</translation>
    </message>
    <message>
        <source>Bone: {0}</source>
        <translation>骨：{0}</translation>
    </message>
    <message>
        <source>Distance: {0}</source>
        <translation>距離：{0}</translation>
    </message>
    <message>
        <source>Bedside {0} — decision support only; the clinician decides.</source>
        <translation>Bedside {0} — 診断支援のみを目的としています。最終判断は医師が行います。</translation>
    </message>
</context>
<context>
    <name>QtModelManager</name>
    <message>
        <source>Model manager</source>
        <translation>モデル管理</translation>
    </message>
    <message>
        <source>Installed model bundles</source>
        <translation>インストール済みモデルバンドル</translation>
    </message>
    <message>
        <source>Demo mode: the demo signing key is trusted. Demo models are NOT for clinical use.</source>
        <translation>デモモード：デモ用の署名鍵を信頼しています。デモモデル — 臨床使用不可。</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>モデル</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>バージョン</translation>
    </message>
    <message>
        <source>Creator</source>
        <translation>作成者</translation>
    </message>
    <message>
        <source>Key fingerprint</source>
        <translation>鍵フィンガープリント</translation>
    </message>
    <message>
        <source>Self-test</source>
        <translation>セルフテスト</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>有効</translation>
    </message>
    <message>
        <source>Model card</source>
        <translation>モデルカード</translation>
    </message>
    <message>
        <source>Install from file…</source>
        <translation>ファイルからインストール…</translation>
    </message>
    <message>
        <source>Install a model bundle from a file</source>
        <translation>ファイルからモデルバンドルをインストール</translation>
    </message>
    <message>
        <source>Activate</source>
        <translation>有効化</translation>
    </message>
    <message>
        <source>Activate the selected version</source>
        <translation>選択したバージョンを有効化</translation>
    </message>
    <message>
        <source>Roll back</source>
        <translation>ロールバック</translation>
    </message>
    <message>
        <source>Roll back to the previously active version</source>
        <translation>以前に有効だったバージョンへロールバック</translation>
    </message>
    <message>
        <source>Install as shadow…</source>
        <translation>シャドーとしてインストール…</translation>
    </message>
    <message>
        <source>Install a model bundle as the shadow candidate of its model</source>
        <translation>モデルバンドルをそのモデルのシャドー候補としてインストール</translation>
    </message>
    <message>
        <source>Stop shadow</source>
        <translation>シャドー停止</translation>
    </message>
    <message>
        <source>Stop shadow scoring by the selected version</source>
        <translation>選択したバージョンによるシャドー評価を停止</translation>
    </message>
    <message>
        <source>Compare…</source>
        <translation>比較…</translation>
    </message>
    <message>
        <source>Compare a candidate version with the active one on local decisions</source>
        <translation>施設の判定に基づき候補バージョンを有効なバージョンと比較</translation>
    </message>
    <message>
        <source>Run self-test</source>
        <translation>セルフテストを実行</translation>
    </message>
    <message>
        <source>Load the selected bundle again and run its self-test</source>
        <translation>選択したバンドルを再読み込みしてセルフテストを実行</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>更新</translation>
    </message>
    <message>
        <source>Refresh the list</source>
        <translation>一覧を更新</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <source>Close the model manager</source>
        <translation>モデル管理を閉じる</translation>
    </message>
    <message>
        <source>Trusted signing keys</source>
        <translation>信頼する署名鍵</translation>
    </message>
    <message>
        <source>Working</source>
        <translation>処理中</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状態</translation>
    </message>
    <message>
        <source>When (UTC)</source>
        <translation>日時 (UTC)</translation>
    </message>
    <message>
        <source>Change</source>
        <translation>変更</translation>
    </message>
    <message>
        <source>Evidence</source>
        <translation>根拠</translation>
    </message>
    <message>
        <source>Approved by</source>
        <translation>承認者</translation>
    </message>
    <message>
        <source>Record</source>
        <translation>記録</translation>
    </message>
    <message>
        <source>Signed change records of the selected model</source>
        <translation>選択したモデルの署名付き変更記録</translation>
    </message>
    <message>
        <source>A shadow candidate scores every image after the active version; its results are recorded in the audit log for comparison and never shown to a reader.</source>
        <translation>シャドー候補は有効なバージョンの後にすべての画像を評価します。その結果は比較のため監査ログに記録され、読影者には表示されません。</translation>
    </message>
    <message>
        <source>site</source>
        <translation>施設</translation>
    </message>
    <message>
        <source>user</source>
        <translation>ユーザー</translation>
    </message>
    <message>
        <source>demo</source>
        <translation>デモ</translation>
    </message>
    <message>
        <source>Trusted signing keys: {count} ({sources}).</source>
        <translation>信頼する署名鍵：{count} 個（{sources}）。</translation>
    </message>
    <message>
        <source>No trusted signing keys: no bundle can be installed. IT places public keys (PEM) in the site&apos;s trusted-keys folder.</source>
        <translation>信頼する署名鍵がありません。バンドルをインストールできません。IT部門が公開鍵（PEM）を施設の trusted-keys フォルダに配置します。</translation>
    </message>
    <message>
        <source>Key files not used: {problems}</source>
        <translation>使用しない鍵ファイル：{problems}</translation>
    </message>
    <message>
        <source>REFUSED</source>
        <translation>拒否</translation>
    </message>
    <message>
        <source>FAILED</source>
        <translation>不合格</translation>
    </message>
    <message>
        <source>Passed (just now)</source>
        <translation>合格（今回実行）</translation>
    </message>
    <message>
        <source>Passed at install</source>
        <translation>インストール時に合格</translation>
    </message>
    <message>
        <source>Reading the model store…</source>
        <translation>モデルストアを読み込み中…</translation>
    </message>
    <message>
        <source>Checking {file}: signature, manifest, weights and self-test…</source>
        <translation>{file} を確認中：署名、マニフェスト、重み、セルフテスト…</translation>
    </message>
    <message>
        <source>Installed {model} {version}. It is not active until you activate it.</source>
        <translation>{model} {version} をインストールしました。有効化するまで使用されません。</translation>
    </message>
    <message>
        <source>Installed {model} {version}; it is now the active version.</source>
        <translation>{model} {version} をインストールしました。現在有効なバージョンです。</translation>
    </message>
    <message>
        <source>Installed {model} {version} as the shadow candidate: it scores every image after the active version, recorded in the audit log and never shown.</source>
        <translation>{model} {version} をシャドー候補としてインストールしました。有効なバージョンの後にすべての画像を評価し、監査ログに記録され、表示されることはありません。</translation>
    </message>
    <message>
        <source>Stopping shadow scoring of {model}…</source>
        <translation>{model} のシャドー評価を停止しています…</translation>
    </message>
    <message>
        <source>Shadow scoring of {model} {version} stopped.</source>
        <translation>{model} {version} のシャドー評価を停止しました。</translation>
    </message>
    <message>
        <source>Bundle refused: {reason}</source>
        <translation>バンドルを拒否しました：{reason}</translation>
    </message>
    <message>
        <source>Not installed: {reason}</source>
        <translation>インストールしませんでした：{reason}</translation>
    </message>
    <message>
        <source>Activating {model} {version}…</source>
        <translation>{model} {version} を有効化中…</translation>
    </message>
    <message>
        <source>{model} {version} is now active.</source>
        <translation>{model} {version} が有効になりました。</translation>
    </message>
    <message>
        <source>Rolling back {model}…</source>
        <translation>{model} をロールバック中…</translation>
    </message>
    <message>
        <source>Rolled back {model}; the active version is now {version}.</source>
        <translation>{model} をロールバックしました。現在有効なバージョンは {version} です。</translation>
    </message>
    <message>
        <source>Running the self-test of {model} {version}…</source>
        <translation>{model} {version} のセルフテストを実行中…</translation>
    </message>
    <message>
        <source>Self-test of {model} {version} passed (largest output difference {diff}).</source>
        <translation>{model} {version} のセルフテストに合格しました（出力の最大差 {diff}）。</translation>
    </message>
    <message>
        <source>Self-test of {model} {version} FAILED: {reason}</source>
        <translation>{model} {version} のセルフテストは不合格です：{reason}</translation>
    </message>
    <message>
        <source>The action failed: {reason}</source>
        <translation>操作に失敗しました：{reason}</translation>
    </message>
    <message>
        <source>Please wait: the current action must finish before this window closes.</source>
        <translation>お待ちください：実行中の操作が完了するまでこの画面は閉じられません。</translation>
    </message>
    <message>
        <source>The model store cannot be read: {reason}</source>
        <translation>モデルストアを読み込めません：{reason}</translation>
    </message>
    <message>
        <source>No model bundle is installed. Use “Install from file…”.</source>
        <translation>モデルバンドルがインストールされていません。「ファイルからインストール…」を使用してください。</translation>
    </message>
    <message>
        <source>Shadow</source>
        <translation>シャドー</translation>
    </message>
    <message>
        <source>Activated {before} → {after}</source>
        <translation>有効化 {before} → {after}</translation>
    </message>
    <message>
        <source>Rolled back {before} → {after}</source>
        <translation>ロールバック {before} → {after}</translation>
    </message>
    <message>
        <source>Site threshold set ({after})</source>
        <translation>施設しきい値を設定 ({after})</translation>
    </message>
    <message>
        <source>Site threshold carried over ({after})</source>
        <translation>施設しきい値を引き継ぎ ({after})</translation>
    </message>
    <message>
        <source>none</source>
        <translation>なし</translation>
    </message>
    <message>
        <source>Proposed: {change}</source>
        <translation>提案中: {change}</translation>
    </message>
    <message>
        <source>Change records cannot be read: {reason}</source>
        <translation>変更記録を読み取れません: {reason}</translation>
    </message>
    <message>
        <source>Change records of {model}: {count}</source>
        <translation>{model} の変更記録: {count} 件</translation>
    </message>
    <message>
        <source>Change records</source>
        <translation>変更記録</translation>
    </message>
    <message>
        <source>comparison</source>
        <translation>比較</translation>
    </message>
    <message>
        <source>recalibration</source>
        <translation>再較正</translation>
    </message>
    <message>
        <source>site amendment</source>
        <translation>施設修正</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>検証済み</translation>
    </message>
    <message>
        <source>NOT VERIFIED</source>
        <translation>未検証</translation>
    </message>
    <message>
        <source>Select a bundle to see its model card.</source>
        <translation>バンドルを選択するとモデルカードが表示されます。</translation>
    </message>
    <message>
        <source>Stop shadow scoring by {model} {version}?

It stays installed; images are no longer scored by it. The change is recorded in the audit log.</source>
        <translation>{model} {version} によるシャドー評価を停止しますか？

インストールされたまま残りますが、画像の評価は行われなくなります。この変更は監査ログに記録されます。</translation>
    </message>
    <message>
        <source>This bundle is refused: {reason}</source>
        <translation>このバンドルは拒否されています：{reason}</translation>
    </message>
    <message>
        <source>Demo model — NOT for clinical use.</source>
        <translation>デモモデル — 臨床使用不可。</translation>
    </message>
    <message>
        <source>Regulatory status</source>
        <translation>規制上の位置づけ</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>作成日時</translation>
    </message>
    <message>
        <source>Installed</source>
        <translation>インストール日時</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>ライセンス</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>アーキテクチャ</translation>
    </message>
    <message>
        <source>Signing key fingerprint</source>
        <translation>署名鍵のフィンガープリント</translation>
    </message>
    <message>
        <source>Intended use</source>
        <translation>使用目的</translation>
    </message>
    <message>
        <source>Out of scope (do not use for)</source>
        <translation>対象外（次の用途には使用しないでください）</translation>
    </message>
    <message>
        <source>Findings, thresholds and operating points</source>
        <translation>所見・閾値・動作点</translation>
    </message>
    <message>
        <source>Performance (with confidence intervals)</source>
        <translation>性能（信頼区間付き）</translation>
    </message>
    <message>
        <source>Training data</source>
        <translation>学習データ</translation>
    </message>
    <message>
        <source>Validation data</source>
        <translation>検証データ</translation>
    </message>
    <message>
        <source>Accepted inputs</source>
        <translation>受け付ける入力画像</translation>
    </message>
    <message>
        <source>Changelog</source>
        <translation>変更履歴</translation>
    </message>
    <message>
        <source>Finding</source>
        <translation>所見</translation>
    </message>
    <message>
        <source>Threshold</source>
        <translation>閾値</translation>
    </message>
    <message>
        <source>Operating point</source>
        <translation>動作点</translation>
    </message>
    <message>
        <source>Metric</source>
        <translation>指標</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>値</translation>
    </message>
    <message>
        <source>Confidence interval</source>
        <translation>信頼区間</translation>
    </message>
    <message>
        <source>Data set</source>
        <translation>データセット</translation>
    </message>
    <message>
        <source>Sources</source>
        <translation>出典</translation>
    </message>
    <message>
        <source>Dates</source>
        <translation>日付</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>画像数</translation>
    </message>
    <message>
        <source>Positives</source>
        <translation>陽性数</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>装置</translation>
    </message>
    <message>
        <source>Install a model bundle</source>
        <translation>モデルバンドルをインストール</translation>
    </message>
    <message>
        <source>Model bundles (*.bundle);;All files (*)</source>
        <translation>モデルバンドル (*.bundle);;すべてのファイル (*)</translation>
    </message>
    <message>
        <source>Install model bundle</source>
        <translation>モデルバンドルのインストール</translation>
    </message>
    <message>
        <source>Install the model bundle {file}?

Its signature, manifest, weights and self-test are checked first; a bundle that fails any check is refused. The installation is recorded in the audit log.</source>
        <translation>モデルバンドル {file} をインストールしますか？

先に署名、マニフェスト、重み、セルフテストを確認し、いずれかに不合格のバンドルは拒否されます。インストールは監査ログに記録されます。</translation>
    </message>
    <message>
        <source>Install a model bundle as shadow</source>
        <translation>モデルバンドルをシャドーとしてインストール</translation>
    </message>
    <message>
        <source>It becomes the shadow candidate of its model: it scores every image after the active version, its results are recorded in the audit log and never shown to a reader.</source>
        <translation>このバンドルはそのモデルのシャドー候補になります。有効なバージョンの後にすべての画像を評価し、その結果は監査ログに記録され、読影者には表示されません。</translation>
    </message>
    <message>
        <source>Install an older version?</source>
        <translation>古いバージョンをインストールしますか？</translation>
    </message>
    <message>
        <source>{reason}

Install this older version anyway? It will not become active by itself, and the downgrade is recorded in the audit log.</source>
        <translation>{reason}

それでもこの古いバージョンをインストールしますか？自動的には有効化されず、ダウングレードは監査ログに記録されます。</translation>
    </message>
    <message>
        <source>Activate model</source>
        <translation>モデルの有効化</translation>
    </message>
    <message>
        <source>Make {model} {version} the active version?

Images scored from now on use this version. The change is recorded in the audit log.</source>
        <translation>{model} {version} を有効なバージョンにしますか？

今後解析する画像にはこのバージョンが使用されます。変更は監査ログに記録されます。</translation>
    </message>
    <message>
        <source>Roll back model</source>
        <translation>モデルのロールバック</translation>
    </message>
    <message>
        <source>Roll back {model} from {version} to the version that was active before it?

Images scored from now on use that version. The change is recorded in the audit log.</source>
        <translation>{model} を {version} から、その前に有効だったバージョンへロールバックしますか？

今後解析する画像にはそのバージョンが使用されます。変更は監査ログに記録されます。</translation>
    </message>
</context>
<context>
    <name>QtMonitoringWindow</name>
    <message>
        <source>Monitoring</source>
        <translation>モニタリング</translation>
    </message>
    <message>
        <source>Model version:</source>
        <translation>モデルバージョン：</translation>
    </message>
    <message>
        <source>Model version to show</source>
        <translation>表示するモデルバージョン</translation>
    </message>
    <message>
        <source>Window:</source>
        <translation>期間：</translation>
    </message>
    <message>
        <source>Monitoring window</source>
        <translation>モニタリングの期間</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>更新</translation>
    </message>
    <message>
        <source>Read the audit log again</source>
        <translation>監査ログを読み直す</translation>
    </message>
    <message>
        <source>Export PDF…</source>
        <translation>PDFを出力…</translation>
    </message>
    <message>
        <source>Export the monitoring report as PDF</source>
        <translation>モニタリングレポートをPDFで出力する</translation>
    </message>
    <message>
        <source>Export JSON…</source>
        <translation>JSONを出力…</translation>
    </message>
    <message>
        <source>Export the monitoring report as JSON</source>
        <translation>モニタリングレポートをJSONで出力する</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <source>Close the monitoring window</source>
        <translation>モニタリング画面を閉じる</translation>
    </message>
    <message>
        <source>Monitoring status</source>
        <translation>モニタリングの状態</translation>
    </message>
    <message>
        <source>Monitoring unavailable</source>
        <translation>モニタリング利用不可</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>概要</translation>
    </message>
    <message>
        <source>Alerts</source>
        <translation>アラート</translation>
    </message>
    <message>
        <source>Alerts in this window</source>
        <translation>この期間のアラート</translation>
    </message>
    <message>
        <source>What</source>
        <translation>対象</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>検定</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>値</translation>
    </message>
    <message>
        <source>Threshold</source>
        <translation>しきい値</translation>
    </message>
    <message>
        <source>Monitoring charts</source>
        <translation>モニタリングのグラフ</translation>
    </message>
    <message>
        <source>Rates over time (centre line: the site&apos;s earlier rate; 3-sigma limits)</source>
        <translation>率の推移（中心線：この施設のそれまでの率、3シグマ管理限界）</translation>
    </message>
    <message>
        <source>Monitoring unavailable: this model&apos;s bundle carries no reference profile. Only the rates over time are shown.</source>
        <translation>モニタリングは利用できません：このモデルのバンドルには基準プロファイルがありません。率の推移のみを表示します。</translation>
    </message>
    <message>
        <source>Scores against the reference</source>
        <translation>スコア（基準との比較）</translation>
    </message>
    <message>
        <source>Inputs against the reference (DICOM categories and image sizes)</source>
        <translation>入力（DICOMの分類と画像サイズ、基準との比較）</translation>
    </message>
    <message>
        <source>last {n} cases</source>
        <translation>直近 {n} 件</translation>
    </message>
    <message>
        <source>last {n} days</source>
        <translation>直近 {n} 日間</translation>
    </message>
    <message>
        <source>Reading the audit log…</source>
        <translation>監査ログを読み込み中…</translation>
    </message>
    <message>
        <source>{n} rows read</source>
        <translation>{n} 行を読み込みました</translation>
    </message>
    <message>
        <source>The monitoring report could not be made: {reason}</source>
        <translation>モニタリングレポートを作成できませんでした：{reason}</translation>
    </message>
    <message>
        <source>Report made {time}; {window}; {alerts} alert(s) in all model versions.</source>
        <translation>レポート作成 {time}、{window}、全モデルバージョンでアラート {alerts} 件。</translation>
    </message>
    <message>
        <source>The audit log holds no AI results yet: nothing to monitor.</source>
        <translation>監査ログにはまだAIの結果がありません。モニタリングする対象がありません。</translation>
    </message>
    <message>
        <source>Window {start} to {end}: {results} AI results, {openings} images opened, {reads} reads.</source>
        <translation>期間 {start} ～ {end}：AI結果 {results} 件、開いた画像 {openings} 件、読影 {reads} 件。</translation>
    </message>
    <message>
        <source>Scores: {label}</source>
        <translation>スコア：{label}</translation>
    </message>
    <message>
        <source>{tag} mix</source>
        <translation>{tag}の構成</translation>
    </message>
    <message>
        <source>p-chart</source>
        <translation>p管理図</translation>
    </message>
    <message>
        <source>reference</source>
        <translation>基準</translation>
    </message>
    <message>
        <source>this window</source>
        <translation>この期間</translation>
    </message>
    <message>
        <source>rate</source>
        <translation>率</translation>
    </message>
    <message>
        <source>centre</source>
        <translation>中心線</translation>
    </message>
    <message>
        <source>3-sigma limits</source>
        <translation>3シグマ管理限界</translation>
    </message>
    <message>
        <source>Scores of &apos;{label}&apos; ({n} in the window)</source>
        <translation>「{label}」のスコア（期間内 {n} 件）</translation>
    </message>
    <message>
        <source>{rate} ({n} cases in the window)</source>
        <translation>{rate}（期間内 {n} 件）</translation>
    </message>
    <message>
        <source>{tag} ({n} images in the window)</source>
        <translation>{tag}（期間内 {n} 画像）</translation>
    </message>
    <message>
        <source>No data in this window.</source>
        <translation>この期間のデータはありません。</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>PDFファイル (*.pdf)</translation>
    </message>
    <message>
        <source>JSON files (*.json)</source>
        <translation>JSONファイル (*.json)</translation>
    </message>
    <message>
        <source>Export the monitoring report</source>
        <translation>モニタリングレポートを出力</translation>
    </message>
    <message>
        <source>Exporting {file}…</source>
        <translation>{file} を出力中…</translation>
    </message>
    <message>
        <source>Monitoring report written: {path}</source>
        <translation>モニタリングレポートを書き出しました：{path}</translation>
    </message>
    <message>
        <source>Export failed: {reason}</source>
        <translation>出力に失敗しました：{reason}</translation>
    </message>
</context>
<context>
    <name>QtPacsCheck</name>
    <message>
        <source>PACS</source>
        <translation>PACS</translation>
    </message>
    <message>
        <source>Not set up: IT turns PACS on in the site file ([pacs]).</source>
        <translation>未設定：PACS はIT担当者がサイト設定ファイル（[pacs]）で有効にします。</translation>
    </message>
    <message>
        <source>DICOMweb {0}</source>
        <translation>DICOMweb {0}</translation>
    </message>
    <message>
        <source>DICOM {0} at {1}:{2} (this workstation: {3})</source>
        <translation>DICOM {0}（{1}:{2}、この端末：{3}）</translation>
    </message>
    <message>
        <source>PACS: {0}. Set by your site.</source>
        <translation>PACS：{0}。施設の設定です。</translation>
    </message>
    <message>
        <source>Sending is off ([pacs] enabled = false).</source>
        <translation>送信はオフです（[pacs] enabled = false）。</translation>
    </message>
    <message>
        <source>PACS destination</source>
        <translation>PACS の接続先</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>接続テスト</translation>
    </message>
    <message>
        <source>Test the connection to PACS</source>
        <translation>PACS への接続をテスト</translation>
    </message>
    <message>
        <source>PACS connection test results</source>
        <translation>PACS 接続テストの結果</translation>
    </message>
    <message>
        <source>Testing…</source>
        <translation>テスト中…</translation>
    </message>
    <message>
        <source>The test could not run: {0}</source>
        <translation>テストを実行できませんでした：{0}</translation>
    </message>
    <message>
        <source>PASS</source>
        <translation>成功</translation>
    </message>
    <message>
        <source>FAIL</source>
        <translation>失敗</translation>
    </message>
    <message>
        <source>{0} {1} ({2} s): {3}</source>
        <translation>{0} {1}（{2} 秒）：{3}</translation>
    </message>
</context>
<context>
    <name>QtPacsSearch</name>
    <message>
        <source>Search PACS</source>
        <translation>PACS を検索</translation>
    </message>
    <message>
        <source>&amp;Patient ID:</source>
        <translation>患者ID(&amp;P)：</translation>
    </message>
    <message>
        <source>&amp;Accession number:</source>
        <translation>受付番号(&amp;A)：</translation>
    </message>
    <message>
        <source>Study date &amp;from:</source>
        <translation>検査日 開始(&amp;F)：</translation>
    </message>
    <message>
        <source>Study date &amp;to:</source>
        <translation>検査日 終了(&amp;T)：</translation>
    </message>
    <message>
        <source>&amp;Modality:</source>
        <translation>モダリティ(&amp;M)：</translation>
    </message>
    <message>
        <source>Patient ID</source>
        <translation>患者ID</translation>
    </message>
    <message>
        <source>Accession number</source>
        <translation>受付番号</translation>
    </message>
    <message>
        <source>Limit the study date from</source>
        <translation>検査日の開始を指定</translation>
    </message>
    <message>
        <source>Limit the study date to</source>
        <translation>検査日の終了を指定</translation>
    </message>
    <message>
        <source>Study date from</source>
        <translation>検査日 開始</translation>
    </message>
    <message>
        <source>Study date to</source>
        <translation>検査日 終了</translation>
    </message>
    <message>
        <source>Modality</source>
        <translation>モダリティ</translation>
    </message>
    <message>
        <source>any; * matches any characters</source>
        <translation>指定なし（* は任意の文字列に一致）</translation>
    </message>
    <message>
        <source>any</source>
        <translation>指定なし</translation>
    </message>
    <message>
        <source>Any</source>
        <translation>すべて</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>検索</translation>
    </message>
    <message>
        <source>Retrieve and open</source>
        <translation>取得して開く</translation>
    </message>
    <message>
        <source>Retrieve the selected study and open it</source>
        <translation>選択した検査を取得して開く</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>Cancel the search or retrieval</source>
        <translation>検索または取得をキャンセル</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <source>Patient name</source>
        <translation>患者名</translation>
    </message>
    <message>
        <source>Study date</source>
        <translation>検査日</translation>
    </message>
    <message>
        <source>Accession</source>
        <translation>受付番号</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>画像数</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>説明</translation>
    </message>
    <message>
        <source>Studies found in PACS</source>
        <translation>PACS で見つかった検査</translation>
    </message>
    <message>
        <source>Retrieval progress</source>
        <translation>取得の進行状況</translation>
    </message>
    <message>
        <source>Search status</source>
        <translation>検索の状態</translation>
    </message>
    <message>
        <source>PACS is not set up on this workstation (ask IT).</source>
        <translation>この端末では PACS が設定されていません（IT担当者に依頼してください）。</translation>
    </message>
    <message>
        <source>The first date is after the last date.</source>
        <translation>開始日が終了日より後になっています。</translation>
    </message>
    <message>
        <source>Searching PACS…</source>
        <translation>PACS を検索中…</translation>
    </message>
    <message>
        <source>Studies found: {0}.</source>
        <translation>見つかった検査：{0} 件。</translation>
    </message>
    <message>
        <source>No study matches.</source>
        <translation>該当する検査はありません。</translation>
    </message>
    <message>
        <source>Retrieving the study…</source>
        <translation>検査を取得中…</translation>
    </message>
    <message>
        <source>Retrieving the study… {0} images</source>
        <translation>検査を取得中… {0} 枚</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>キャンセルしました。</translation>
    </message>
    <message>
        <source>Retrieved into {0}; opened in the study browser.</source>
        <translation>{0} に取得し、検査ブラウザで開きました。</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>キャンセル中…</translation>
    </message>
</context>
<context>
    <name>QtPacsStatus</name>
    <message>
        <source>PACS status</source>
        <translation>PACS の状態</translation>
    </message>
    <message>
        <source>Sent to PACS {0}</source>
        <translation>PACS へ送信済み {0}</translation>
    </message>
    <message>
        <source>Waiting: PACS unreachable since {0}</source>
        <translation>送信待ち：{0} から PACS に接続できません</translation>
    </message>
    <message>
        <source>({0} objects waiting)</source>
        <translation>（{0} 個のオブジェクトが送信待ち）</translation>
    </message>
    <message>
        <source>Not sent: PACS refused the result ({0}). It is kept; IT can send it again (bedside pacs outbox retry).</source>
        <translation>未送信：PACS が結果を拒否しました（{0}）。結果は保持されています。IT担当者が再送できます（bedside pacs outbox retry）。</translation>
    </message>
    <message>
        <source>no reason given</source>
        <translation>理由の記載なし</translation>
    </message>
    <message>
        <source>Not sent to PACS ({0} waiting): {1} They are kept and go out once this is fixed.</source>
        <translation>PACSへ未送信（{0}件待機中）: {1} 結果は保持され、これが直りしだい送信されます。</translation>
    </message>
    <message>
        <source>Queued for PACS</source>
        <translation>PACS への送信待ち</translation>
    </message>
    <message>
        <source>Not queued for PACS: {0} The decision is saved.</source>
        <translation>PACS への送信待ちに登録できませんでした：{0} 判定は保存されています。</translation>
    </message>
</context>
<context>
    <name>QtSettingsDialog</name>
    <message>
        <source>Welcome to Bedside</source>
        <translation>Bedsideへようこそ</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>設定</translation>
    </message>
    <message>
        <source>Please enter your name and role. They are printed with every decision you record in the audit log.</source>
        <translation>氏名と職種を入力してください。監査ログに記録されるすべての判定に記載されます。</translation>
    </message>
    <message>
        <source>Clinician &amp;name:</source>
        <translation>医師の氏名(&amp;N)：</translation>
    </message>
    <message>
        <source>&amp;Role:</source>
        <translation>職種(&amp;R)：</translation>
    </message>
    <message>
        <source>Reading &amp;order:</source>
        <translation>読影順序(&amp;O)：</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>言語(&amp;L)：</translation>
    </message>
    <message>
        <source>Left mouse &amp;drag:</source>
        <translation>左ドラッグ(&amp;D)：</translation>
    </message>
    <message>
        <source>Data folder:</source>
        <translation>データフォルダ：</translation>
    </message>
    <message>
        <source>e.g. Dr. Jane Smith</source>
        <translation>例：山田 花子</translation>
    </message>
    <message>
        <source>Clinician name</source>
        <translation>医師の氏名</translation>
    </message>
    <message>
        <source>Clinician role</source>
        <translation>医師の職種</translation>
    </message>
    <message>
        <source>Reading order</source>
        <translation>読影順序</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>言語</translation>
    </message>
    <message>
        <source>Left mouse drag on the image</source>
        <translation>画像上での左ドラッグの操作</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>データフォルダ</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Save settings</source>
        <translation>設定を保存</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>AI result shown with the image</source>
        <translation>画像と同時にAI結果を表示</translation>
    </message>
    <message>
        <source>Read first, then reveal the AI result</source>
        <translation>先に読影し、その後AI結果を表示</translation>
    </message>
    <message>
        <source>With &apos;read first&apos; the AI result stays hidden until you record your own provisional finding. The order used is recorded in the audit log.</source>
        <translation>「先に読影」では、ご自身の暫定所見を記録するまでAI結果は表示されません。使用した読影順序は監査ログに記録されます。</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>システムの言語</translation>
    </message>
    <message>
        <source>Pan the image (right drag: window/level)</source>
        <translation>画像を移動（右ドラッグ：ウィンドウ／レベル）</translation>
    </message>
    <message>
        <source>Window/level, as in Weasis and RadiAnt (right drag: pan)</source>
        <translation>ウィンドウ／レベル（Weasis や RadiAnt と同じ。右ドラッグ：移動）</translation>
    </message>
    <message>
        <source>Set by your site</source>
        <translation>施設で設定済み</translation>
    </message>
    <message>
        <source>Where Bedside keeps the audit log, models and settings (set by IT).</source>
        <translation>Bedsideが監査ログ・モデル・設定を保存する場所です（IT部門が設定）。</translation>
    </message>
    <message>
        <source>Radiologist</source>
        <translation>放射線科医</translation>
    </message>
    <message>
        <source>Emergency physician</source>
        <translation>救急医</translation>
    </message>
    <message>
        <source>Resident</source>
        <translation>研修医</translation>
    </message>
    <message>
        <source>Radiographer</source>
        <translation>診療放射線技師</translation>
    </message>
    <message>
        <source>Settings were not saved: {reason}</source>
        <translation>設定は保存されませんでした：{reason}</translation>
    </message>
</context>
<context>
    <name>QtStudyBrowser</name>
    <message>
        <source>decided</source>
        <translation>判定済み</translation>
    </message>
    <message>
        <source>amended</source>
        <translation>修正済み</translation>
    </message>
    <message>
        <source>Reading headers: {0} of {1} files…</source>
        <translation>ヘッダーを読み込み中：{1} ファイル中 {0}…</translation>
    </message>
    <message>
        <source>The folder could not be read: {0}</source>
        <translation>フォルダを読み込めませんでした：{0}</translation>
    </message>
    <message>
        <source>{0} image(s)</source>
        <translation>{0} 画像</translation>
    </message>
    <message>
        <source>{0} non-image object(s) listed, not opened</source>
        <translation>画像以外のオブジェクト {0} 件（一覧のみ、開いていません）</translation>
    </message>
    <message>
        <source>{0} non-DICOM file(s) skipped</source>
        <translation>DICOM以外のファイル {0} 件をスキップしました</translation>
    </message>
    <message>
        <source>{0} file(s) could not be read</source>
        <translation>{0} ファイルを読み込めませんでした</translation>
    </message>
    <message>
        <source>{0} image(s) share a SOP Instance UID with a different image: check which belongs to the patient</source>
        <translation>{0} 件の画像が別の画像と同じ SOP Instance UID を持っています：どちらがこの患者の画像か確認してください</translation>
    </message>
    <message>
        <source>scan cancelled</source>
        <translation>読み込みをキャンセルしました</translation>
    </message>
    <message>
        <source>Studies: patient, study, series, image</source>
        <translation>検査：患者・検査・シリーズ・画像</translation>
    </message>
    <message>
        <source>Folder reading progress</source>
        <translation>フォルダ読み込みの進捗</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>Cancel reading the folder</source>
        <translation>フォルダの読み込みをキャンセル</translation>
    </message>
</context>
<context>
    <name>QtTagBrowser</name>
    <message>
        <source>{0} of {1} elements shown</source>
        <translation>{1} 要素中 {0} 要素を表示</translation>
    </message>
    <message>
        <source>DICOM tags — {0}</source>
        <translation>DICOMタグ — {0}</translation>
    </message>
    <message>
        <source>Search tag, name or value (e.g. 0028,1050 or Window)</source>
        <translation>タグ・名前・値で検索（例：0028,1050、Window）</translation>
    </message>
    <message>
        <source>Search DICOM tags</source>
        <translation>DICOMタグを検索</translation>
    </message>
    <message>
        <source>DICOM tags</source>
        <translation>DICOMタグ</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>タグ</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名前</translation>
    </message>
    <message>
        <source>VR</source>
        <translation>VR</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>値</translation>
    </message>
</context>
<context>
    <name>QtUserGuide</name>
    <message>
        <source>Bedside user guide</source>
        <translation>Bedside 利用者ガイド</translation>
    </message>
    <message>
        <source>User guide</source>
        <translation>利用者ガイド</translation>
    </message>
    <message>
        <source>The user guide cannot be read ({0}): {1}</source>
        <translation>利用者ガイドを読み込めません（{0}）：{1}</translation>
    </message>
</context>
<context>
    <name>QtViewportGrid</name>
    <message>
        <source>Current {0} — AI and decision</source>
        <translation>現在 {0} — AI と判定の対象</translation>
    </message>
    <message>
        <source>Prior {0} — view only</source>
        <translation>過去 {0} — 閲覧のみ</translation>
    </message>
    <message>
        <source>{0} — view only</source>
        <translation>{0} — 閲覧のみ</translation>
    </message>
    <message>
        <source>View only</source>
        <translation>閲覧のみ</translation>
    </message>
    <message>
        <source>ANOTHER PATIENT — view only</source>
        <translation>別の患者 — 閲覧のみ</translation>
    </message>
    <message>
        <source>This file cannot be shown</source>
        <translation>このファイルは表示できません</translation>
    </message>
    <message>
        <source>Current — AI and decision</source>
        <translation>現在 — AI と判定の対象</translation>
    </message>
    <message>
        <source>Drop a series here</source>
        <translation>ここにシリーズをドロップ</translation>
    </message>
    <message>
        <source>Viewport {0} caption</source>
        <translation>画面 {0} の見出し</translation>
    </message>
    <message>
        <source>Viewport {0}</source>
        <translation>画面 {0}</translation>
    </message>
    <message>
        <source>Image view {0} (view only)</source>
        <translation>画像表示 {0} (閲覧のみ)</translation>
    </message>
</context>
<context>
    <name>QtWorklist</name>
    <message>
        <source>waiting</source>
        <translation>待機中</translation>
    </message>
    <message>
        <source>model running</source>
        <translation>モデル解析中</translation>
    </message>
    <message>
        <source>scored</source>
        <translation>解析済み</translation>
    </message>
    <message>
        <source>refused</source>
        <translation>拒否</translation>
    </message>
    <message>
        <source>error</source>
        <translation>エラー</translation>
    </message>
    <message>
        <source>decided</source>
        <translation>判定済み</translation>
    </message>
    <message>
        <source>amended</source>
        <translation>修正済み</translation>
    </message>
    <message>
        <source>hidden (read first)</source>
        <translation>非表示（先に読影）</translation>
    </message>
    <message>
        <source>AI batch: {0} of {1} done</source>
        <translation>AI一括解析：{1} 件中 {0} 件完了</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>一時停止中</translation>
    </message>
    <message>
        <source>Resume AI batch</source>
        <translation>AI一括解析を再開</translation>
    </message>
    <message>
        <source>Pause AI batch</source>
        <translation>AI一括解析を一時停止</translation>
    </message>
    <message>
        <source>Patient</source>
        <translation>患者</translation>
    </message>
    <message>
        <source>Study date</source>
        <translation>検査日</translation>
    </message>
    <message>
        <source>View</source>
        <translation>撮影方向</translation>
    </message>
    <message>
        <source>AI status</source>
        <translation>AIの状態</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>スコア</translation>
    </message>
    <message>
        <source>Worklist of opened images</source>
        <translation>開いた画像のワークリスト</translation>
    </message>
    <message>
        <source>Pause or resume the AI batch run</source>
        <translation>AI一括解析の一時停止・再開</translation>
    </message>
    <message>
        <source>Highest score first</source>
        <translation>スコアの高い順</translation>
    </message>
    <message>
        <source>Sort the worklist by AI score</source>
        <translation>ワークリストをAIスコア順に並べ替え</translation>
    </message>
</context>
<context>
    <name>Shortcuts</name>
    <message>
        <source>Images</source>
        <translation>画像</translation>
    </message>
    <message>
        <source>View</source>
        <translation>表示</translation>
    </message>
    <message>
        <source>Annotations</source>
        <translation>注釈</translation>
    </message>
    <message>
        <source>Window / level</source>
        <translation>ウィンドウ／レベル</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>判定</translation>
    </message>
    <message>
        <source>Mouse</source>
        <translation>マウス</translation>
    </message>
    <message>
        <source>Files, tools and help</source>
        <translation>ファイル・ツール・ヘルプ</translation>
    </message>
    <message>
        <source>Next image</source>
        <translation>次の画像</translation>
    </message>
    <message>
        <source>Previous image</source>
        <translation>前の画像</translation>
    </message>
    <message>
        <source>First image</source>
        <translation>最初の画像</translation>
    </message>
    <message>
        <source>Last image</source>
        <translation>最後の画像</translation>
    </message>
    <message>
        <source>Next case not decided yet (in worklist order)</source>
        <translation>次の未判定の症例（ワークリストの順）</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>拡大</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>縮小</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>全体表示</translation>
    </message>
    <message>
        <source>1:1</source>
        <translation>等倍</translation>
    </message>
    <message>
        <source>Invert</source>
        <translation>白黒反転</translation>
    </message>
    <message>
        <source>Rotate 90°</source>
        <translation>90°回転</translation>
    </message>
    <message>
        <source>Flip</source>
        <translation>左右反転</translation>
    </message>
    <message>
        <source>Reset view</source>
        <translation>表示をリセット</translation>
    </message>
    <message>
        <source>Pan</source>
        <translation>移動</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>計測</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>距離</translation>
    </message>
    <message>
        <source>Angle</source>
        <translation>角度</translation>
    </message>
    <message>
        <source>Rectangle ROI (mean, SD, min, max, area)</source>
        <translation>矩形 ROI（平均、SD、最小、最大、面積）</translation>
    </message>
    <message>
        <source>Ellipse ROI (mean, SD, min, max, area)</source>
        <translation>楕円 ROI（平均、SD、最小、最大、面積）</translation>
    </message>
    <message>
        <source>Cardiothoracic ratio: drag the cardiac width, then the thoracic</source>
        <translation>心胸郭比: 心臓の横径、次に胸郭の横径をドラッグ</translation>
    </message>
    <message>
        <source>Arrow</source>
        <translation>矢印</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>テキスト</translation>
    </message>
    <message>
        <source>Delete the selected annotation</source>
        <translation>選択した注釈を削除</translation>
    </message>
    <message>
        <source>One viewport (1x1)</source>
        <translation>1画面 (1x1)</translation>
    </message>
    <message>
        <source>Two viewports side by side (1x2)</source>
        <translation>2画面横並び (1x2)</translation>
    </message>
    <message>
        <source>Four viewports (2x2)</source>
        <translation>4画面 (2x2)</translation>
    </message>
    <message>
        <source>Synchronise zoom and pan between viewports</source>
        <translation>画面間でズームと移動を同期</translation>
    </message>
    <message>
        <source>Open the prior: the newest earlier study beside the current image</source>
        <translation>過去画像を開く: 最新の過去検査を現在の画像の隣に表示</translation>
    </message>
    <message>
        <source>Show heatmap</source>
        <translation>ヒートマップを表示</translation>
    </message>
    <message>
        <source>DICOM tags…</source>
        <translation>DICOMタグ…</translation>
    </message>
    <message>
        <source>Full screen</source>
        <translation>全画面表示</translation>
    </message>
    <message>
        <source>Window preset 1 to 9 (in the order of the Window list)</source>
        <translation>ウィンドウのプリセット 1～9（ウィンドウ一覧の順）</translation>
    </message>
    <message>
        <source>Confirm the AI finding</source>
        <translation>AI所見を確定する</translation>
    </message>
    <message>
        <source>Override the AI finding (a reason is required)</source>
        <translation>AI所見を上書きする（理由が必要）</translation>
    </message>
    <message>
        <source>Amend a saved decision</source>
        <translation>保存済みの判定を修正</translation>
    </message>
    <message>
        <source>Pan, or window/level when Settings &gt; Left mouse drag says so; measure or draw with the Measure and annotation tools; with Pan, a click on an annotation selects it and a drag moves it</source>
        <translation>移動（設定 移動（設定 &gt; 左ドラッグで指定すればウィンドウ/レベル）gt; 左ドラッグで指定すればウィンドウ／レベル）。計測ツールと注釈ツールでは計測・描画。移動ツールでは注釈をクリックで選択、ドラッグで移動</translation>
    </message>
    <message>
        <source>Left drag</source>
        <translation>左ドラッグ</translation>
    </message>
    <message>
        <source>Window/level (pan when the left drag does window/level)</source>
        <translation>ウィンドウ／レベル（左ドラッグがウィンドウ／レベルのときは移動）</translation>
    </message>
    <message>
        <source>Right drag</source>
        <translation>右ドラッグ</translation>
    </message>
    <message>
        <source>Middle drag</source>
        <translation>中ボタンでドラッグ</translation>
    </message>
    <message>
        <source>Zoom about the pointer</source>
        <translation>ポインタの位置を中心に拡大縮小</translation>
    </message>
    <message>
        <source>Wheel</source>
        <translation>ホイール</translation>
    </message>
    <message>
        <source>Double-click</source>
        <translation>ダブルクリック</translation>
    </message>
    <message>
        <source>Open file…</source>
        <translation>ファイルを開く…</translation>
    </message>
    <message>
        <source>Open folder…</source>
        <translation>フォルダを開く…</translation>
    </message>
    <message>
        <source>Export view as PNG…</source>
        <translation>表示を PNG として書き出し…</translation>
    </message>
    <message>
        <source>Print…</source>
        <translation>印刷…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>設定…</translation>
    </message>
    <message>
        <source>User guide</source>
        <translation>利用者ガイド</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>キーボードショートカット</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>終了</translation>
    </message>
    <message>
        <source>Scroll the shortcut list</source>
        <translation>ショートカット一覧をスクロール</translation>
    </message>
    <message>
        <source>Column titles: keys, action</source>
        <translation>列見出し：キー、操作</translation>
    </message>
    <message>
        <source>Scroll the shortcut list sideways</source>
        <translation>ショートカット一覧を横にスクロール</translation>
    </message>
    <message>
        <source>Keys without Ctrl or Alt do nothing while you type in a text box (the override reason): the text box gets them.</source>
        <translation>テキスト欄（上書きの理由など）に入力している間、Ctrl や Alt を伴わないキーはショートカットとして働かず、そのまま入力されます。</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <source>Close the shortcut list</source>
        <translation>ショートカット一覧を閉じる</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>キー</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
</context>
<context>
    <name>Workers</name>
    <message>
        <source>Unexpected internal error ({0}: {1}).</source>
        <translation>予期しない内部エラーが発生しました（{0}: {1}）。</translation>
    </message>
</context>
</TS>
